//! A WeChat answer → the call's result or an [`ApiError`], in every mode:
//! [`wechat_json`] reads a WeChat JSON answer (the HTTPS modes' answer, and
//! the one inside the cloud call's gateway answer, which
//! `crate::cloud::answer` opens); [`wechat_rid`] finds WeChat's request id
//! in an error.
//!
//! Deliberate differences from the reference (wx-server-sdk 4.0.2):
//! - numbers are kept as their JSON text (integers beyond 2^53 are not turned
//!   into bignumber.js internals `{s, e, c}`);
//! - a WeChat JSON answer that is not an object resolves as
//!   `{result: <value>, errMsg, errCode}` (see [`wechat_json`]);
//! - an answer body quoted in an error message is cut at
//!   [`MAX_BODY_IN_MESSAGE`] bytes, and the raw body attached to an error
//!   ([`ApiError::raw_body`]) at the same size.
#![warn(missing_docs)]

use crate::lone_surrogates::{mask_lone_surrogates, unmask};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::codes::WX_SYSTEM_ERROR;
use crate::error::{ok_msg, ApiError};
use crate::json_deep;

/// Longest answer excerpt, in bytes, quoted in an error message or kept in
/// [`ApiError::raw_body`].
pub const MAX_BODY_IN_MESSAGE: usize = 64 * 1024;

/// A successful call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Success {
    /// The full result object as JSON text, `errMsg` and `errCode` last
    /// (unless the answer already had such keys, which keep their place).
    Json(String),
    /// A binary answer (e.g. an image): resolves as `{contentType, buffer, errMsg, errCode}`.
    Binary {
        /// WeChat's content type, trimmed.
        content_type: String,
        /// The answer bytes.
        data: Vec<u8>,
    },
}

/// The WeChat JSON answer → result or error; shared with the HTTPS calling mode.
///
/// - invalid JSON: -601001
///   `{api}:fail wechat server internal error, response body is invalid json: {text}`;
/// - an object whose `errcode` is truthy in JavaScript's sense (a non-zero
///   number, a non-empty string, `true`, an object or array): `CloudSDKError`
///   with errCode = `errcode` and errMsg `{api}:fail {errmsg}` (`errmsg` as
///   JavaScript would print it: a missing one shows `undefined`). An
///   `errcode` that is not an integer (a numeric string is parsed) gives
///   errCode -601001, since errCode is a number here;
/// - otherwise `errcode` and `errmsg` are removed, keys are converted to
///   camelCase (unless `convert_case` is false) with the reference's ordering,
///   and `errMsg: "{api}:ok"`, `errCode: 0` are set (appended, or replaced in
///   place when the answer already has those keys, like `Object.assign`);
/// - JSON that is not an object (array, string, number, boolean, null)
///   resolves as `{result: <value>, errMsg, errCode}`. The reference spreads
///   such a value into the result (`{0: …, 1: …}` for an array, nothing for a
///   number) or throws a `TypeError` for `null`; keeping the value under
///   `result`, like the reference's own text/plain fallback, loses nothing.
///
/// Object keys that look like array indices come first in ascending order,
/// as in any JavaScript object.
pub fn wechat_json(api: &str, text: &str, convert_case: bool) -> Result<Success, ApiError> {
    wechat_text(api, text, convert_case, false)
}

/// [`wechat_json`], or for a `text/plain` answer (`text_plain`) the
/// reference's fallback: text that is not JSON resolves as
/// `{result: <text>, errMsg, errCode}`.
pub fn wechat_text(
    api: &str,
    text: &str,
    convert_case: bool,
    text_plain: bool,
) -> Result<Success, ApiError> {
    if let Some(json) = flat_success(api, text, convert_case) {
        return Ok(Success::Json(json));
    }
    // JSON.parse accepts an escaped lone surrogate (`"\ud83d"`), serde_json
    // does not: without this, a successful answer quoting half an emoji
    // would be reported as a failure (and the call perhaps repeated).
    let (masked, stand_in) = mask_lone_surrogates(text);
    let Some(c) = stand_in else {
        return wechat_value(api, text, convert_case, text_plain);
    };
    match wechat_value(api, &masked, convert_case, text_plain) {
        Ok(Success::Json(json)) => Ok(Success::Json(unmask(&json, c, true))),
        Ok(other) => Ok(other),
        Err(mut e) => {
            e.err_msg = unmask(&e.err_msg, c, false);
            Err(e)
        }
    }
}

/// The usual successful answer (`{"errcode":0,"errmsg":"ok","envid":"…"}`)
/// without building a tree: one object whose values are numbers (without
/// `E`, which serde_json writes `e`), booleans, null or strings without
/// escapes, whose keys are plain text (no escapes), unique, not array
/// indices, not `errMsg` or `errCode`, and unchanged by the case
/// conversion, with an `errcode` that is absent or `0`. Its members
/// are written out as they came, `errcode` and `errmsg` left out, `errMsg`
/// and `errCode` appended: the same text [`wechat_value`] writes (serde_json
/// writes such a string, and a number with `arbitrary_precision`, as its
/// text). `None`: anything else, which [`wechat_value`] reads in full.
fn flat_success(api: &str, text: &str, convert_case: bool) -> Option<String> {
    /// A small object's members, in order, each value as its JSON text;
    /// fails on a key that is not plain text (an escape), and on anything
    /// but an object.
    struct Members<'a>(Vec<(&'a str, &'a RawValue)>);
    impl<'de> Deserialize<'de> for Members<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> Visitor<'de> for Visit {
                type Value = Members<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut members = Vec::with_capacity(8);
                    while let Some(member) = map.next_entry::<&'de str, &'de RawValue>()? {
                        if members.len() == FLAT_MEMBERS {
                            return Err(serde::de::Error::custom("not small"));
                        }
                        members.push(member);
                    }
                    Ok(Members(members))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    /// More members than this: the general path (the duplicate check is quadratic).
    const FLAT_MEMBERS: usize = 32;
    let Members(members) = serde_json::from_str(text).ok()?;
    for (i, (key, value)) in members.iter().enumerate() {
        let plain = match key.as_bytes() {
            [b'e', b'r', b'r', b'M' | b'C', ..] => !matches!(*key, "errMsg" | "errCode"),
            b"errcode" => value.get() == "0",
            _ => true,
        };
        let converts = convert_case
            && key
                .as_bytes()
                .windows(2)
                .any(|w| w[0] == b'_' && w[1].is_ascii_lowercase());
        let raw = value.get().as_bytes();
        let respelled = match raw.first() {
            Some(b'{' | b'[') => true,
            Some(b'"') => raw.contains(&b'\\'),
            _ => raw.contains(&b'E'),
        };
        if !plain
            || converts
            || respelled
            || is_array_index(key).is_some()
            || members[..i].iter().any(|(k, _)| k == key)
        {
            return None;
        }
    }
    // No longer than the answer, less `errcode` and `errmsg`, plus the two keys.
    let mut out = String::with_capacity(text.len() + api.len() + 32);
    out.push('{');
    for (key, value) in members {
        if key == "errcode" || key == "errmsg" {
            continue;
        }
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
        out.push_str(value.get());
        out.push(',');
    }
    out.push_str("\"errMsg\":");
    // Written by serde_json, as the full path writes it (a string cannot fail).
    out.push_str(&serde_json::to_string(&ok_msg(api)).unwrap_or_default());
    out.push_str(",\"errCode\":0}");
    Some(out)
}

fn wechat_value(
    api: &str,
    text: &str,
    convert_case: bool,
    text_plain: bool,
) -> Result<Success, ApiError> {
    // Any depth JSON.parse reads (a created environment must never be
    // reported as a failure). Each object is put in JavaScript's key order
    // and its keys converted as soon as it is complete, bottom-up, so the
    // tree is never walked recursively (json_deep).
    let mut finish_object = |m: Map<String, Value>| {
        let m = js_order_object(m);
        if convert_case {
            crate::case::object_to_camel(m)
        } else {
            m
        }
    };
    let parsed = match json_deep::parse(text, &mut finish_object) {
        Some(v) => v,
        None => {
            if text_plain {
                let mut m = Map::new();
                m.insert("result".to_string(), Value::String(text.to_string()));
                return finish(api, m);
            }
            return Err(ApiError::bad_answer(format!(
                "wechat server internal error, response body is invalid json: {}",
                excerpt(text)
            ))
            .for_api(api)
            .with_body(capped(text.as_bytes())));
        }
    };
    let mut obj = match parsed {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("result".to_string(), other);
            return finish(api, m);
        }
    };
    if let Some(code) = obj.get("errcode") {
        if js_truthy(code) {
            let err_code = errcode_number(code);
            let errmsg = js_string(obj.get("errmsg"));
            json_deep::drop_value(Value::Object(obj));
            return Err(ApiError::answer(err_code, excerpt(&errmsg))
                .for_api(api)
                .with_body(capped(text.as_bytes())));
        }
    }
    for key in ["errcode", "errmsg"] {
        if let Some(v) = obj.shift_remove(key) {
            json_deep::drop_value(v);
        }
    }
    finish(api, obj)
}

/// `Object.assign({...result}, {errMsg, errCode: 0})`, as JSON text.
fn finish(api: &str, mut obj: Map<String, Value>) -> Result<Success, ApiError> {
    for (key, value) in [
        ("errMsg", Value::String(ok_msg(api))),
        ("errCode", Value::from(0)),
    ] {
        if let Some(old) = obj.insert(key.to_string(), value) {
            json_deep::drop_value(old);
        }
    }
    let obj = Value::Object(obj);
    let text = json_deep::to_string(&obj);
    json_deep::drop_value(obj);
    Ok(Success::Json(text))
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn js_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => match n.as_f64() {
            Some(f) => f != 0.0,
            None => true,
        },
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `errcode` as an errCode number: integers (or integer strings) as they are,
/// anything else -601001.
fn errcode_number(v: &Value) -> i64 {
    let from_f64 = |f: f64| {
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Some(f as i64)
        } else {
            None
        }
    };
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(from_f64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.unwrap_or(WX_SYSTEM_ERROR)
}

/// How a template literal shows a value (`${v}`); `None` is `undefined`.
pub(crate) fn js_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(_)) => "[object Object]".to_string(),
        Some(Value::Array(items)) => js_join(items),
    }
}

/// `String(array)`: the items joined with `,`, `null` as nothing, inner
/// arrays joined the same way (flattened), without recursion.
fn js_join(items: &[Value]) -> String {
    let mut out = String::new();
    let mut stack = vec![(items.iter(), true)];
    while let Some((iter, first)) = stack.last_mut() {
        let Some(item) = iter.next() else {
            stack.pop();
            continue;
        };
        if !std::mem::replace(first, false) {
            out.push(',');
        }
        match item {
            Value::Null => {}
            Value::Array(inner) => stack.push((inner.iter(), true)),
            other => out.push_str(&js_string(Some(other))),
        }
        // A message quotes at most MAX_BODY_IN_MESSAGE bytes of it.
        if out.len() > MAX_BODY_IN_MESSAGE {
            break;
        }
    }
    out
}

/// Whether a key is an array index, which JavaScript orders first.
fn is_array_index(key: &str) -> Option<u32> {
    if key == "0" {
        return Some(0);
    }
    let bytes = key.as_bytes();
    if bytes.is_empty() || bytes.len() > 10 || bytes[0] == b'0' {
        return None;
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|&n| n < u64::from(u32::MAX))
        .and_then(|n| u32::try_from(n).ok())
}

/// One object's keys in `JSON.parse`'s order: array-index keys first,
/// ascending, then the others in text order.
fn js_order_object(m: Map<String, Value>) -> Map<String, Value> {
    if !m.keys().any(|k| is_array_index(k).is_some()) {
        return m;
    }
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by_key(|(k, _)| match is_array_index(k) {
        Some(n) => (0u8, n),
        None => (1u8, 0),
    });
    entries.into_iter().collect()
}

pub(crate) fn capped(body: &[u8]) -> &[u8] {
    &body[..body.len().min(MAX_BODY_IN_MESSAGE)]
}

/// At most [`MAX_BODY_IN_MESSAGE`] bytes of `text`, cut at a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    if text.len() <= MAX_BODY_IN_MESSAGE {
        return text.to_string();
    }
    let mut end = MAX_BODY_IN_MESSAGE;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// WeChat's request id in an errmsg (`… rid: 6543a1b2-0f1e2d3c-4b5a6978`).
pub fn wechat_rid(err_msg: &str) -> Option<String> {
    let at = err_msg.rfind("rid: ")? + "rid: ".len();
    let rid: String = err_msg[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!rid.is_empty()).then_some(rid)
}

#[cfg(test)]
mod tests {
    use crate::cloud::answer::{api_not_found_hint, decode_gateway};
    use crate::cloud::proto;
    use crate::error::ErrorClass;
    #[test]
    fn escaped_lone_surrogates_are_accepted_as_json_parse_does() {
        let text = r#"{"errcode":0,"errmsg":"ok","envid":"a\ud83d","pair":"\ud83d\ude00","x":"\\ud800","low":"\uDC00z"}"#;
        let Ok(Success::Json(json)) = wechat_json("openapi.a.b", text, true) else {
            panic!("rejected");
        };
        assert_eq!(
            json,
            r#"{"envid":"a\ud83d","pair":"😀","x":"\\ud800","low":"\udc00z","errMsg":"openapi.a.b:ok","errCode":0}"#
        );
        // an error quoting one shows U+FFFD
        let e = wechat_json(
            "openapi.a.b",
            r#"{"errcode":1,"errmsg":"bad \udead"}"#,
            true,
        )
        .unwrap_err();
        assert_eq!(e.err_msg, "openapi.a.b:fail bad \u{fffd}");
        // still invalid: an escape that is not hex
        assert!(wechat_json("openapi.a.b", r#"{"a":"\ud8zz"}"#, true).is_err());
    }

    #[test]
    fn flat_answers_take_the_short_path_and_give_the_same_text() {
        use super::{flat_success, wechat_value};
        let api = "openapi.tcb.createenvandresource";
        let full =
            |text: &str, convert_case: bool| match wechat_value(api, text, convert_case, false) {
                Ok(Success::Json(json)) => Some(json),
                _ => None,
            };
        // Taken: the usual answers, numbers spelled in every way JSON allows
        // (serde_json keeps each as its text), strings with any character
        // that needs no escape, an empty object.
        let flat = [
            r#"{"errcode":0,"errmsg":"ok","envid":"test-env-1a2b3c"}"#,
            r#"{"errmsg":"ok","envid":"e","errcode":0}"#,
            r#"{"envid":"e"}"#,
            "{}",
            " { \"errcode\" : 0 , \"a\" : 1.50 , \"b\" : -0 , \"c\" : 1e+2 , \"d\" : 12345678901234567890123 } ",
            "{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\",\"u\":\"中文 😀 \u{2028}\u{7f}\",\"x_1\":1,\"_\":2,\"a_\":3,\"A_B\":4}",
        ];
        for text in flat {
            for convert_case in [true, false] {
                let short = flat_success(api, text, convert_case);
                assert!(
                    short.is_some(),
                    "{text} (convert_case {convert_case}) took the long path"
                );
                assert_eq!(short, full(text, convert_case), "{text}");
            }
        }
        // Declined, each for one reason; the long path answers them.
        let declined = [
            (r#"{"errcode":1,"errmsg":"bad"}"#, "an error"),
            (r#"{"errcode":"0","a":1}"#, "a truthy errcode"),
            (r#"{"errcode":0.0,"a":1}"#, "errcode not spelled 0"),
            (r#"{"a":1E2}"#, "an upper-case exponent"),
            (r#"{"a":{"b":1}}"#, "a nested object"),
            (r#"{"errcode":0,"errmsg":{"b":1}}"#, "a nested errmsg"),
            (r#"{"a":[1]}"#, "an array"),
            (r#"{"a":"x\ny"}"#, "an escape in a value"),
            (r#"{"a\u0062":1}"#, "an escape in a key"),
            (r#"{"a":1,"a":2}"#, "a repeated key"),
            (r#"{"b":1,"7":2}"#, "an array index"),
            (r#"{"errMsg":"x"}"#, "errMsg"),
            (r#"{"errCode":5}"#, "errCode"),
            (r#"[1]"#, "not an object"),
            (r#"{"a":1} x"#, "trailing text"),
        ];
        for (text, why) in declined {
            assert_eq!(flat_success(api, text, false), None, "{why}: {text}");
        }
        // The case conversion: a key it changes goes the long way.
        assert_eq!(flat_success(api, r#"{"env_id":"e"}"#, true), None);
        assert_eq!(
            flat_success(api, r#"{"env_id":"e"}"#, false),
            full(r#"{"env_id":"e"}"#, false)
        );
        // Past the member limit: the long path.
        let many: Vec<String> = (0..33).map(|i| format!(r#""k{i}":{i}"#)).collect();
        assert_eq!(
            flat_success(api, &format!("{{{}}}", many.join(",")), true),
            None
        );
        let fewer = format!("{{{}}}", many[..32].join(","));
        assert_eq!(flat_success(api, &fewer, true), full(&fewer, true));
        // An API name that serde_json escapes is escaped the same way.
        let odd = "openapi.a\"b";
        let got = flat_success(odd, "{}", true);
        let want = match wechat_value(odd, "{}", true, false) {
            Ok(Success::Json(json)) => Some(json),
            _ => None,
        };
        assert_eq!(got, want);
    }

    #[test]
    fn answers_nested_deeper_than_serde_json_allows_resolve() {
        // JSON.parse (and the reference) reads these; an environment
        // created but reported as -601001 would invite a second creation.
        for depth in [127, 128, 129, 5_000, 20_000] {
            let nested = format!("{}{{\"in_key\":1}}{}", "[".repeat(depth), "]".repeat(depth));
            let text =
                format!(r#"{{"errcode":0,"errmsg":"ok","env_id":"e-1","deep_list":{nested}}}"#);
            let Ok(Success::Json(json)) = wechat_json("openapi.a.b", &text, true) else {
                panic!("depth {depth} rejected");
            };
            let camel = format!("{}{{\"inKey\":1}}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(
                json,
                format!(
                    r#"{{"envId":"e-1","deepList":{camel},"errMsg":"openapi.a.b:ok","errCode":0}}"#
                )
            );
            // and an error answer of that depth is the WeChat error
            let err = format!(r#"{{"errcode":45009,"errmsg":"quota","x":{nested}}}"#);
            assert_eq!(
                wechat_json("openapi.a.b", &err, true).unwrap_err().err_code,
                45009
            );
        }
    }

    #[test]
    fn escaped_noncharacters_survive_a_lone_surrogate() {
        // Every stand-in candidate escaped (U+FDD0..U+FDEF, in both cases)
        // next to a lone surrogate: each comes back as JSON.parse gives it.
        let mut text = String::from(r#"{"lone":"\ud800""#);
        let mut want = String::from(r#"{"lone":"\ud800""#);
        for (i, c) in ('\u{fdd0}'..='\u{fdef}').enumerate() {
            let esc = if i % 2 == 0 {
                format!("\\u{:04x}", u32::from(c))
            } else {
                format!("\\u{:04X}", u32::from(c))
            };
            text.push_str(&format!(r#","k{i}":"{esc}beef""#));
            want.push_str(&format!(r#","k{i}":"{c}beef""#));
        }
        text.push('}');
        // ... and the first supplementary private use characters, raw and
        // as escaped pairs.
        text.pop();
        text.push_str(",\"raw\":\"\u{f0000}\",\"pair\":\"\\udb80\\udc01\"}");
        want.push_str(",\"raw\":\"\u{f0000}\",\"pair\":\"\u{f0001}\"");
        want.push_str(r#","errMsg":"openapi.a.b:ok","errCode":0}"#);
        let Ok(Success::Json(json)) = wechat_json("openapi.a.b", &text, false) else {
            panic!("rejected");
        };
        assert_eq!(json, want);
        let Ok(Success::Json(json)) =
            wechat_json("openapi.a.b", r#"{"a":"\ud83d","b":"\ufdd0beef"}"#, true)
        else {
            panic!("rejected");
        };
        assert_eq!(
            json,
            "{\"a\":\"\\ud83d\",\"b\":\"\u{fdd0}beef\",\"errMsg\":\"openapi.a.b:ok\",\"errCode\":0}"
        );
    }

    use super::*;
    use prost::Message;

    const API: &str = "openapi.tcb.createenvandresource";

    /// (status, http content type, body) of a recorded gateway answer.
    fn gateway_answer(gw: &Value) -> (u16, String, Vec<u8>) {
        let status = gw.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
        if let Some(pb) = gw.get("pb") {
            let resp = proto::CommOpenApiResp {
                resp_data: pb
                    .get("respData")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
                content_type: pb
                    .get("contentType")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                error_code: pb.get("errorCode").and_then(Value::as_i64).unwrap_or(0) as i32,
                ..Default::default()
            };
            (
                status,
                "application/octet-stream".into(),
                resp.encode_to_vec(),
            )
        } else {
            let raw = gw["raw"].as_str().unwrap().as_bytes().to_vec();
            let ct = gw
                .get("ct")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            (status, ct, raw)
        }
    }

    fn url_in(msg: &str) -> &str {
        match (msg.rfind('['), msg.rfind(']')) {
            (Some(a), Some(b)) if a < b => &msg[a + 1..b],
            _ => "",
        }
    }

    #[test]
    fn replays_every_recorded_answer() {
        let rec = crate::test_support::recording();
        let cases = rec["responses"].as_array().unwrap();
        assert!(cases.len() >= 20);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let (status, ct, body) = gateway_answer(&case["gateway"]);
            let expected = &case["result"];
            let url = expected
                .get("errMsg")
                .and_then(Value::as_str)
                .map(url_in)
                .unwrap_or("");
            let got = decode_gateway(API, status, &ct, &body, true, url);
            match name {
                "empty-200" => {
                    let e = got.unwrap_err();
                    assert_eq!(e.err_code, -601001);
                    assert_eq!(e.class, ErrorClass::Cloud);
                    assert_eq!(
                        e.err_msg,
                        format!("{API}:fail empty response from the gateway")
                    );
                    continue;
                }
                "garbage-200" => {
                    let e = got.unwrap_err();
                    assert_eq!(e.err_code, -601001, "{name}");
                    assert_eq!(e.class, ErrorClass::Cloud);
                    let prefix =
                        format!("{API}:fail unknown wx response received: invalid protobuf (");
                    assert!(e.err_msg.starts_with(&prefix), "{}", e.err_msg);
                    assert!(e
                        .message()
                        .starts_with("errCode: -601001 system error | errMsg: "));
                    continue;
                }
                "pb-errorCode-not-found" => {
                    // A deliberate difference: errCode and errMsg as
                    // recorded, the message adds the API's name.
                    let e = got.unwrap_err();
                    assert_eq!(e.err_code, -604100);
                    assert_eq!(e.err_msg, expected["errMsg"].as_str().unwrap());
                    let recorded = expected["message"].as_str().unwrap();
                    assert_eq!(
                        e.message(),
                        format!("{recorded} | {}", api_not_found_hint(API))
                    );
                    assert!(e.message().contains(API));
                    continue;
                }
                "errcode-zero-string-json-in-pb" => {
                    let Success::Json(text) = got.unwrap() else {
                        panic!("{name}: not JSON");
                    };
                    assert_eq!(
                        text,
                        format!(
                            r#"{{"bigNum":12345678901234567000,"errMsg":"{API}:ok","errCode":0}}"#
                        )
                    );
                    continue;
                }
                _ => {}
            }
            if expected["threw"].as_bool().unwrap() {
                let e = got.expect_err(name);
                assert_eq!(e.err_code, expected["errCode"].as_i64().unwrap(), "{name}");
                assert_eq!(e.err_msg, expected["errMsg"].as_str().unwrap(), "{name}");
                assert_eq!(e.message(), expected["message"].as_str().unwrap(), "{name}");
                let class = match expected["ctor"].as_str().unwrap() {
                    "CloudSDKError" => ErrorClass::Cloud,
                    _ => ErrorClass::Plain,
                };
                assert_eq!(e.class, class, "{name}");
                continue;
            }
            let value = &expected["value"];
            match got.expect(name) {
                Success::Json(text) => {
                    let want = match case.get("value_json_in_order").and_then(Value::as_str) {
                        Some(s) => s.to_string(),
                        None => value.to_string(),
                    };
                    assert_eq!(text, want, "{name}");
                }
                Success::Binary { content_type, data } => {
                    assert_eq!(
                        content_type,
                        value["contentType"].as_str().unwrap(),
                        "{name}"
                    );
                    assert_eq!(
                        hex::encode(data),
                        value["buffer"]["buffer_hex"].as_str().unwrap(),
                        "{name}"
                    );
                }
            }
        }
    }

    fn json(r: Result<Success, ApiError>) -> String {
        match r {
            Ok(Success::Json(s)) => s,
            other => panic!("not JSON: {other:?}"),
        }
    }

    #[test]
    fn convert_case_off_keeps_keys() {
        let s = json(wechat_json(
            API,
            r#"{"errcode":0,"errmsg":"ok","env_id":"e"}"#,
            false,
        ));
        assert_eq!(
            s,
            format!(r#"{{"env_id":"e","errMsg":"{API}:ok","errCode":0}}"#)
        );
    }

    #[test]
    fn existing_err_keys_keep_their_place() {
        let s = json(wechat_json(
            API,
            r#"{"errMsg":"x","a":1,"err_code":5}"#,
            true,
        ));
        assert_eq!(s, format!(r#"{{"errMsg":"{API}:ok","a":1,"errCode":0}}"#));
    }

    #[test]
    fn index_keys_first() {
        let s = json(wechat_json(
            API,
            r#"{"b":1,"2":2,"1":{"z":1,"0":0},"01":3}"#,
            true,
        ));
        assert_eq!(
            s,
            format!(
                r#"{{"1":{{"0":0,"z":1}},"2":2,"b":1,"01":3,"errMsg":"{API}:ok","errCode":0}}"#
            )
        );
    }

    #[test]
    fn non_objects_resolve_under_result() {
        for (text, want) in [
            ("[1,{\"a_b\":1}]", r#"[1,{"aB":1}]"#),
            ("5", "5"),
            ("null", "null"),
            ("\"s\"", "\"s\""),
            ("true", "true"),
        ] {
            let s = json(wechat_json(API, text, true));
            assert_eq!(
                s,
                format!(r#"{{"result":{want},"errMsg":"{API}:ok","errCode":0}}"#)
            );
        }
    }

    #[test]
    fn errcode_truthiness() {
        // Falsy errcodes resolve.
        for code in ["0", "0.0", "-0", "null", "false", "\"\""] {
            let text = format!(r#"{{"errcode":{code},"errmsg":"ok","v":1}}"#);
            let s = json(wechat_json(API, &text, true));
            assert_eq!(
                s,
                format!(r#"{{"v":1,"errMsg":"{API}:ok","errCode":0}}"#),
                "{code}"
            );
        }
        // Truthy errcodes reject.
        for (code, err_code) in [
            ("\"40001\"", 40001),
            ("\"0\"", 0),
            ("\"abc\"", -601001),
            ("true", -601001),
            ("1.5", -601001),
            ("4e4", 40000),
            ("{}", -601001),
            ("123456789012345678901234567890", -601001),
        ] {
            let text = format!(r#"{{"errcode":{code}}}"#);
            let e = wechat_json(API, &text, true).unwrap_err();
            assert_eq!(e.err_code, err_code, "{code}");
            assert_eq!(e.class, ErrorClass::Cloud);
            assert_eq!(e.err_msg, format!("{API}:fail undefined"), "{code}");
        }
        let e = wechat_json(API, r#"{"errcode":1,"errmsg":["a",null,2]}"#, true).unwrap_err();
        assert_eq!(e.err_msg, format!("{API}:fail a,,2"));
    }

    #[test]
    fn gateway_json_errors() {
        let e = decode_gateway(
            API,
            200,
            "text/html",
            br#"{"code":"INVALIID_ENV","message":"m"}"#,
            true,
            "",
        )
        .unwrap_err();
        assert_eq!(e.err_code, -501005);
        assert_eq!(e.class, ErrorClass::Plain);
        assert_eq!(e.err_msg, format!("{API}:fail -501005 invalid env. m"));
        // Some other JSON that is no protobuf either.
        let e =
            decode_gateway(API, 200, "application/json", br#"{"foo": 1}"#, true, "").unwrap_err();
        assert_eq!(e.err_code, -501001);
        assert_eq!(e.class, ErrorClass::Cloud);
        assert_eq!(e.err_msg, format!(r#"{API}:fail {{"foo":1}}"#));
    }

    #[test]
    fn http_errors() {
        let e = decode_gateway(API, 599, "", b"", true, "http://h/admin").unwrap_err();
        assert_eq!(
            e.err_msg,
            format!("{API}:fail -501001 resource system error. 599 undefined | [http://h/admin]")
        );
        let e = decode_gateway(API, 418, "", b"x", true, "u").unwrap_err();
        assert!(e.err_msg.contains("418 I'm a Teapot | [u]"));
        assert_eq!(e.raw_body.as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn hostile_bodies_do_not_panic() {
        let big = vec![b'['; 1 << 20];
        let deep = "[".repeat(100_000);
        let inputs: Vec<Vec<u8>> = vec![
            big.clone(),
            deep.clone().into_bytes(),
            vec![0xff; 1000],
            vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
            b"{\"code\":".to_vec(),
        ];
        for body in &inputs {
            for ct in ["application/json", "", "text/plain"] {
                let _ = decode_gateway(API, 200, ct, body, true, "");
            }
        }
        for ct in ["application/json", "text/plain"] {
            let resp = proto::CommOpenApiResp {
                resp_data: deep.clone().into_bytes(),
                content_type: ct.into(),
                ..Default::default()
            };
            let r = decode_gateway(API, 200, "", &resp.encode_to_vec(), true, "");
            if ct == "application/json" {
                let e = r.unwrap_err();
                assert!(e.err_msg.len() < MAX_BODY_IN_MESSAGE + 200);
                assert!(e.raw_body.unwrap().len() <= MAX_BODY_IN_MESSAGE);
            } else {
                assert!(r.is_ok());
            }
        }
        let resp = proto::CommOpenApiResp {
            resp_data: vec![0xff, 0xfe, b'{'],
            content_type: "text/plain".into(),
            ..Default::default()
        };
        let s = json(decode_gateway(
            API,
            200,
            "",
            &resp.encode_to_vec(),
            true,
            "",
        ));
        assert!(
            s.starts_with(r#"{"result":"\ufffd\ufffd{""#)
                || s.starts_with("{\"result\":\"\u{fffd}\u{fffd}{\"")
        );
    }

    #[test]
    fn binary_content_type_trimmed() {
        let resp = proto::CommOpenApiResp {
            resp_data: vec![1, 2, 3],
            content_type: "  image/jpeg \n".into(),
            ..Default::default()
        };
        let got = decode_gateway(
            API,
            200,
            "application/octet-stream",
            &resp.encode_to_vec(),
            true,
            "",
        );
        assert_eq!(
            got.unwrap(),
            Success::Binary {
                content_type: "image/jpeg".into(),
                data: vec![1, 2, 3]
            }
        );
    }

    #[test]
    fn wechat_request_id_from_errmsg() {
        assert_eq!(
            wechat_rid("openapi.tcb.x:fail invalid credential rid: 6543a1b2-0f1e2d3c-4b5a6978")
                .as_deref(),
            Some("6543a1b2-0f1e2d3c-4b5a6978")
        );
        assert_eq!(wechat_rid("openapi.tcb.x:fail invalid args"), None);
        assert_eq!(wechat_rid("rid: "), None);
    }
}
