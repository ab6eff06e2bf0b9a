//! The mini-program APIs of the emulator, served through both doors (the
//! gateway's `wx.openApi` and the HTTPS paths of the path table):
//! `wxacode.getUnlimited`, `wxacode.get`, `wxacode.createQRCode` (an image),
//! `subscribeMessage.send`, `security.msgSecCheck`, `security.imgSecCheck`
//! and `customerServiceMessage.uploadTempMedia` (media uploads),
//! `customerServiceMessage.send`, `urlscheme.generate`, `urllink.generate`
//! and `phonenumber.getPhoneNumber`.
//!
//! Each API checks its params as WeChat documents and answers with the
//! documented errcode (see `docs/emulator.md`):
//! - `wxacode.getUnlimited`: 40169 `scene` missing, empty or longer than 32;
//!   40129 a `scene` character outside `[0-9A-Za-z!#$&'()*+,/:;=?@-._~]`;
//!   41030 a `page` starting with `/` or carrying a query;
//! - `wxacode.get`, `wxacode.createQRCode`: 40159 `path` missing, empty or
//!   longer than 1024;
//! - `subscribeMessage.send`: 40003 `touser` missing; 40037 `template_id`
//!   missing; 47003 `data` not an object of `{ value }`;
//! - `security.msgSecCheck`: 47001 `content` not a string; 87014 risky
//!   content (WeChat's documented test text [`RISKY_TEXT`]);
//! - `security.imgSecCheck`: 41005 no `media`; 87014 an image containing
//!   [`RISKY_TEXT`];
//! - `customerServiceMessage.uploadTempMedia`: 40004 `type` not `image`;
//!   41005 no `media`;
//! - `customerServiceMessage.send`: 40003 `touser` missing; 40008 an
//!   unknown `msgtype`;
//! - `urlscheme.generate`, `urllink.generate`: 40165 a page path starting
//!   with `/` or carrying a query; 40097 a malformed `jump_wxa` / `expire_type`;
//! - `phonenumber.getPhoneNumber`: 40029 `code` missing or empty.
//!
//! Successful answers are deterministic (derived from the params), except
//! the documented timestamps (`created_at`, `watermark.timestamp`).

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::wechat::wx_error;
use crate::wire::paths::{self, Method, Params, Route};

/// The APIs served here.
pub const APIS: &[&str] = &[
    "customerServiceMessage.send",
    "customerServiceMessage.uploadTempMedia",
    "phonenumber.getPhoneNumber",
    "security.imgSecCheck",
    "security.msgSecCheck",
    "subscribeMessage.send",
    "urllink.generate",
    "urlscheme.generate",
    "wxacode.createQRCode",
    "wxacode.get",
    "wxacode.getUnlimited",
];

/// WeChat's documented test text for content checks: text (or an image
/// carrying it) that contains it is answered 87014 "risky content".
pub const RISKY_TEXT: &str = "特3456书yuuo莞6543李zxcz蒜7782法fgnv级";

/// The content type of the emulated codes.
pub const IMAGE_JPEG: &str = "image/jpeg";

/// An uploaded media param.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub content_type: String,
    pub file_name: String,
    pub data: Bytes,
}

/// A request's params: JSON values, and uploads by param name.
#[derive(Debug, Default)]
pub struct Input {
    pub params: Map<String, Value>,
    pub uploads: HashMap<String, Upload>,
}

/// An answer of these APIs.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// WeChat JSON (errors included).
    Json(Value),
    /// A successful binary answer.
    Binary(&'static str, Vec<u8>),
}

/// The table's row of a path this module serves (the HTTPS door).
pub fn route_of_path(path: &str) -> Option<&'static Route> {
    paths::all()
        .iter()
        .find(|r| r.path == path && APIS.contains(&r.api.as_str()))
}

fn ok(fields: Value) -> Answer {
    let mut m = Map::new();
    m.insert("errcode".into(), 0.into());
    m.insert("errmsg".into(), "ok".into());
    if let Value::Object(mut f) = fields {
        m.append(&mut f);
    }
    Answer::Json(Value::Object(m))
}

fn err(code: i64, msg: &str) -> Answer {
    Answer::Json(wx_error(code, msg))
}

fn now_secs() -> u64 {
    super::state::now_ms() / 1000
}

/// A short id derived from `parts` (hex of SHA-256).
fn digest(parts: &[&[u8]], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())[..len].to_string()
}

/// A page path as WeChat accepts it: no leading `/`, no query.
fn valid_page(p: &str) -> bool {
    !p.starts_with('/') && !p.contains('?')
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The emulated code: a JPEG marker stream (SOI, a comment segment naming
/// the API and its params, EOI). Not a scannable code; the same params
/// give the same bytes.
fn code_image(api: &str, params: &Map<String, Value>) -> Vec<u8> {
    let text = format!(
        "wx-cloud-openapi emulator {api} {}",
        serde_json::to_string(params).unwrap_or_default()
    );
    let text = &text.as_bytes()[..text.len().min(60000)];
    let mut out = vec![0xff, 0xd8, 0xff, 0xfe];
    out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

/// Answer `api` (one of [`APIS`]); `appid` is the caller's app.
///
/// One piece on purpose: one short arm per API, each with its documented
/// checks and codes, read as a table.
pub fn call(api: &str, input: &Input, appid: &str) -> Answer {
    let p = &input.params;
    let s = |k: &str| p.get(k).and_then(Value::as_str);
    match api {
        "wxacode.getUnlimited" => {
            let scene = match s("scene") {
                Some(sc) if !sc.is_empty() && sc.chars().count() <= 32 => sc,
                _ => {
                    return err(
                        40169,
                        "invalid length for scene, or the data is not json string",
                    )
                }
            };
            let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
            if !scene.chars().all(allowed) {
                return err(40129, "invalid scene");
            }
            if s("page").is_some_and(|pg| !valid_page(pg)) {
                return err(41030, "invalid page");
            }
            Answer::Binary(IMAGE_JPEG, code_image(api, p))
        }
        "wxacode.get" | "wxacode.createQRCode" => match s("path") {
            Some(path) if !path.is_empty() && path.len() <= 1024 => {
                Answer::Binary(IMAGE_JPEG, code_image(api, p))
            }
            _ => err(
                40159,
                "invalid length for path, or the data is not json string",
            ),
        },
        "subscribeMessage.send" => {
            if s("touser").is_none_or(str::is_empty) {
                return err(40003, "invalid openid");
            }
            if s("template_id").is_none_or(str::is_empty) {
                return err(40037, "invalid template_id");
            }
            let data_ok = match p.get("data") {
                Some(Value::Object(d)) => d.values().all(|v| {
                    v.get("value")
                        .is_some_and(|x| x.is_string() || x.is_number())
                }),
                _ => false,
            };
            if !data_ok {
                return err(47003, "argument invalid! data.value invalid");
            }
            ok(json!({}))
        }
        "security.msgSecCheck" => match s("content") {
            None => err(47001, "data format error"),
            Some(c) if c.contains(RISKY_TEXT) => err(87014, "risky content"),
            Some(_) => ok(json!({})),
        },
        "security.imgSecCheck" => match input.uploads.get("media") {
            None => err(41005, "media data missing"),
            Some(m) if contains(&m.data, RISKY_TEXT.as_bytes()) => err(87014, "risky content"),
            Some(_) => ok(json!({})),
        },
        "customerServiceMessage.uploadTempMedia" => {
            if s("type") != Some("image") {
                return err(40004, "invalid media type");
            }
            match input.uploads.get("media") {
                None => err(41005, "media data missing"),
                Some(m) => ok(json!({
                    "type": "image",
                    "media_id": format!("emulator-media-{}", digest(&[&m.data], 24)),
                    "created_at": now_secs(),
                })),
            }
        }
        "customerServiceMessage.send" => {
            if s("touser").is_none_or(str::is_empty) {
                return err(40003, "invalid openid");
            }
            match s("msgtype") {
                Some("text" | "image" | "link" | "miniprogrampage") => ok(json!({})),
                _ => err(40008, "invalid message type"),
            }
        }
        "urlscheme.generate" => {
            let jump = match p.get("jump_wxa") {
                None => None,
                Some(Value::Object(j)) => Some(j),
                Some(_) => return err(40097, "invalid args"),
            };
            if jump
                .and_then(|j| j.get("path"))
                .and_then(Value::as_str)
                .is_some_and(|pg| !valid_page(pg))
            {
                return err(40165, "invalid weapp pagepath");
            }
            let id = digest(
                &[serde_json::to_string(p).unwrap_or_default().as_bytes()],
                11,
            );
            ok(json!({ "openlink": format!("weixin://dl/business/?t={id}") }))
        }
        "urllink.generate" => {
            if s("path").is_some_and(|pg| !valid_page(pg)) {
                return err(40165, "invalid weapp pagepath");
            }
            if p.get("expire_type")
                .is_some_and(|t| t.as_u64().is_none_or(|t| t > 1))
            {
                return err(40097, "invalid args");
            }
            let id = digest(
                &[serde_json::to_string(p).unwrap_or_default().as_bytes()],
                11,
            );
            ok(json!({ "url_link": format!("https://wxaurl.cn/{id}") }))
        }
        "phonenumber.getPhoneNumber" => match s("code") {
            Some(c) if !c.is_empty() => ok(json!({
                "phone_info": {
                    "phoneNumber": "13800138000",
                    "purePhoneNumber": "13800138000",
                    "countryCode": "86",
                    "watermark": { "timestamp": now_secs(), "appid": appid },
                }
            })),
            _ => err(40029, "invalid code"),
        },
        _ => err(-1, "system error"),
    }
}

/// Parse an HTTPS request's params where `route` puts them: the query
/// pairs it names (all of them for a GET), a JSON body, or a multipart
/// form (file parts become uploads, text parts string params). `Err` is
/// the WeChat error answer.
pub async fn https_input(
    route: &Route,
    query: &[(String, String)],
    content_type: &str,
    body: Bytes,
) -> Result<Input, Value> {
    let mut input = Input::default();
    for (k, v) in query {
        if k != "access_token" && (route.params == Params::Query || route.query.contains(k)) {
            input.params.insert(k.clone(), Value::String(v.clone()));
        }
    }
    match route.params {
        Params::Query => {}
        Params::Json => {
            if !body.iter().all(u8::is_ascii_whitespace) {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(m)) => input.params.extend(m),
                    _ => return Err(wx_error(47001, "data format error")),
                }
            }
        }
        Params::Multipart => {
            if body.is_empty() {
                return Ok(input);
            }
            let boundary = multer::parse_boundary(content_type)
                .map_err(|_| wx_error(47001, "data format error"))?;
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
            let mut form = multer::Multipart::new(stream, boundary);
            let mut n = 0;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|_| wx_error(47001, "data format error"))?
            {
                n += 1;
                if n > 64 {
                    return Err(wx_error(47001, "data format error"));
                }
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(str::to_string);
                let ct = field.content_type().map(|m| m.to_string());
                let data = field
                    .bytes()
                    .await
                    .map_err(|_| wx_error(47001, "data format error"))?;
                match file_name {
                    Some(file_name) => {
                        input.uploads.insert(
                            name,
                            Upload {
                                content_type: ct.unwrap_or_default(),
                                file_name,
                                data,
                            },
                        );
                    }
                    None => {
                        let text = String::from_utf8_lossy(&data).into_owned();
                        input.params.insert(name, Value::String(text));
                    }
                }
            }
        }
    }
    Ok(input)
}

/// The method a route wants, as WeChat reports a wrong one.
pub fn wrong_method(route: &Route, method: &http::Method) -> Option<Value> {
    match route.method {
        Method::Post if method != http::Method::POST => {
            Some(wx_error(43002, "require POST method"))
        }
        Method::Get if method != http::Method::GET => Some(wx_error(43001, "require GET method")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Input {
        Input {
            params: v.as_object().unwrap().clone(),
            ..Input::default()
        }
    }

    fn code(a: &Answer) -> i64 {
        match a {
            Answer::Json(v) => v["errcode"].as_i64().unwrap(),
            Answer::Binary(..) => 0,
        }
    }

    #[test]
    fn every_api_is_in_the_path_table_and_its_path_leads_back() {
        for api in APIS {
            let r = paths::route(api).unwrap_or_else(|| panic!("{api} is not in the table"));
            assert_eq!(route_of_path(&r.path).map(|r| r.api.as_str()), Some(*api));
        }
    }

    #[test]
    fn the_table_sends_the_other_known_apis_where_the_wechat_door_serves_them() {
        for api in super::super::wechat::KNOWN_APIS {
            if let Some(r) = paths::route(api) {
                assert_eq!(
                    super::super::wechat::WeChat::api_of_path(&r.path),
                    Some(*api),
                    "{api}"
                );
            }
        }
        assert!(paths::route("tcb.createenvandresource").is_some());
    }

    #[test]
    fn documented_error_codes() {
        let c = |api: &str, v: Value| code(&call(api, &params(v), "wx"));
        assert_eq!(c("wxacode.getUnlimited", json!({})), 40169);
        assert_eq!(
            c("wxacode.getUnlimited", json!({"scene": "x".repeat(33)})),
            40169
        );
        assert_eq!(c("wxacode.getUnlimited", json!({"scene": "a b"})), 40129);
        assert_eq!(
            c(
                "wxacode.getUnlimited",
                json!({"scene": "a=1", "page": "/pages/x"})
            ),
            41030
        );
        assert_eq!(c("wxacode.get", json!({"path": ""})), 40159);
        assert_eq!(
            c("subscribeMessage.send", json!({"template_id": "t"})),
            40003
        );
        assert_eq!(c("subscribeMessage.send", json!({"touser": "o"})), 40037);
        assert_eq!(
            c(
                "subscribeMessage.send",
                json!({"touser": "o", "template_id": "t", "data": {"a": 1}})
            ),
            47003
        );
        assert_eq!(
            c(
                "subscribeMessage.send",
                json!({"touser": "o", "template_id": "t", "data": {"a": {"value": "x"}}})
            ),
            0
        );
        assert_eq!(
            c(
                "security.msgSecCheck",
                json!({"content": format!("x{RISKY_TEXT}y")})
            ),
            87014
        );
        assert_eq!(c("security.msgSecCheck", json!({"content": 5})), 47001);
        assert_eq!(c("security.imgSecCheck", json!({})), 41005);
        assert_eq!(
            c(
                "customerServiceMessage.uploadTempMedia",
                json!({"type": "voice"})
            ),
            40004
        );
        assert_eq!(
            c(
                "customerServiceMessage.uploadTempMedia",
                json!({"type": "image"})
            ),
            41005
        );
        assert_eq!(
            c(
                "customerServiceMessage.send",
                json!({"touser": "o", "msgtype": "video"})
            ),
            40008
        );
        assert_eq!(
            c("urlscheme.generate", json!({"jump_wxa": {"path": "a?b=1"}})),
            40165
        );
        assert_eq!(c("urlscheme.generate", json!({"jump_wxa": 5})), 40097);
        assert_eq!(c("urllink.generate", json!({"expire_type": 3})), 40097);
        assert_eq!(c("phonenumber.getPhoneNumber", json!({"code": ""})), 40029);
    }

    #[test]
    fn answers_are_derived_from_the_params() {
        let a = call(
            "wxacode.getUnlimited",
            &params(json!({"scene": "a=1"})),
            "wx",
        );
        let b = call(
            "wxacode.getUnlimited",
            &params(json!({"scene": "a=2"})),
            "wx",
        );
        let Answer::Binary(ct, bytes) = &a else {
            panic!("{a:?}")
        };
        assert_eq!(*ct, IMAGE_JPEG);
        assert_eq!(&bytes[..2], &[0xff, 0xd8]);
        assert_eq!(&bytes[bytes.len() - 2..], &[0xff, 0xd9]);
        assert!(contains(bytes, b"\"scene\":\"a=1\""));
        assert_ne!(a, b);
        assert_eq!(
            a,
            call(
                "wxacode.getUnlimited",
                &params(json!({"scene": "a=1"})),
                "wx"
            )
        );
        let mut up = params(json!({"type": "image"}));
        up.uploads.insert(
            "media".into(),
            Upload {
                content_type: "image/png".into(),
                file_name: "a.png".into(),
                data: Bytes::from_static(b"png"),
            },
        );
        let Answer::Json(v) = call("customerServiceMessage.uploadTempMedia", &up, "wx") else {
            panic!()
        };
        assert_eq!(v["type"], "image");
        assert!(v["media_id"]
            .as_str()
            .unwrap()
            .starts_with("emulator-media-"));
        let mut risky = up;
        risky.uploads.get_mut("media").unwrap().data = Bytes::from(format!("..{RISKY_TEXT}.."));
        assert_eq!(code(&call("security.imgSecCheck", &risky, "wx")), 87014);
    }
}
