//! TC3-HMAC-SHA256 request signing for the cloud-base gateway (service `tcb`),
//! exactly as the reference signer (`@cloudbase/signature-nodejs`) computes it
//! for a multipart `/admin` request, with the `SignedParams` list.
//!
//! See `cloud-call-wire.md`, section 6. [`sign`] returns every intermediate
//! value so that tests and the emulator's verifier can compare step by step;
//! [`parse_authorization`] serves the verifier (which compares signatures
//! in constant time with `subtle`).
#![warn(missing_docs)]

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::json_text::js_trim;

/// The signing algorithm name, first word of the `authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The service in the credential scope.
pub const SERVICE: &str = "tcb";

/// Everything the signature covers.
///
/// Deliberately not `Debug`: it holds the secret key.
pub struct SignRequest<'a> {
    /// HTTP method exactly as the reference passes it (`post`); it is not case-normalised.
    pub method: &'a str,
    /// Full URL with scheme and query.
    pub url: &'a str,
    /// The headers to sign: name in any case, value already stringified
    /// (numbers as their JavaScript text).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body fields that are present, as `(name as sent, raw value bytes)`, in any order.
    pub params: &'a [(&'a str, &'a [u8])],
    /// Tencent Cloud secret id (appears in the `Credential=` part).
    pub secret_id: &'a str,
    /// Tencent Cloud secret key (never printed).
    pub secret_key: &'a str,
    /// Signing time, seconds since the epoch.
    pub timestamp: i64,
}

/// The result of [`sign`], with every intermediate value.
///
/// None of these values reveals the secret key (the derived keys are one-way
/// HMACs of it, scoped to one day), but they are still credentials for that
/// day: do not log them outside tests.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Signed {
    /// The `authorization` header value.
    pub authorization: String,
    /// The canonical request text.
    pub canonical_request: String,
    /// Lower-case hex SHA-256 of the signed body fields.
    pub hashed_payload: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// Hex of the final signature.
    pub signature: String,
}

/// Sign a request.
///
/// Rules (the reference's, including its quirks):
/// - header names are lower-cased and trimmed (then URI-component encoded,
///   which changes nothing for real header names); values trimmed and
///   lower-cased; a `content-type` that starts with `multipart/form-data`
///   becomes exactly `multipart/form-data`, any other content type is kept
///   verbatim; names sorted; a later duplicate name replaces an earlier one;
/// - body field names are lower-cased and trimmed; values are trimmed like
///   JavaScript strings, except `requestData` which is raw bytes (a Buffer in
///   the reference); empty values are skipped and not listed in `SignedParams`;
/// - names are sorted with a locale-aware comparison like the reference's
///   `localeCompare` (punctuation before digits before letters);
/// - canonical URI = the URL with `http:`/`https:` removed, cut at `?`;
///   query = the raw text after `?` (up to a `#`).
pub fn sign(req: &SignRequest<'_>) -> Signed {
    // Names and values are borrowed wherever the rule leaves them unchanged
    // (the usual case): signing runs on every call.
    let (canonical_headers, signed_headers) = canonical_headers(req.headers);
    let (hashed_payload, signed_params) = hashed_fields(req.params);

    // Canonical request: method, URI, query, headers, signed headers, payload hash.
    let (signed_url, query) = split_url(req.url);
    let canonical_request = [
        req.method,
        signed_url,
        &query,
        &canonical_headers,
        &signed_headers,
        &hashed_payload,
    ]
    .join("\n");

    // The texts below are appended piece by piece: `write!` through
    // `core::fmt` cost more than the rest of assembling them (every call
    // signs once, and the emulator verifies once).
    let date = crate::utc::date(req.timestamp);
    let scope = [date.as_str(), "/", SERVICE, "/tc3_request"];
    let mut string_to_sign = String::with_capacity(160);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(itoa::Buffer::new().format(req.timestamp));
    string_to_sign.push('\n');
    scope.iter().for_each(|s| string_to_sign.push_str(s));
    string_to_sign.push('\n');
    string_to_sign.push_str(&hex::encode(Sha256::digest(canonical_request.as_bytes())));
    let secret_signing = signing_key(req.secret_key, &date);
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));

    let mut authorization = String::with_capacity(
        120 + req.secret_id.len() + signed_params.len() + signed_headers.len(),
    );
    for part in [ALGORITHM, " Credential=", req.secret_id, "/"]
        .into_iter()
        .chain(scope)
        .chain([", SignedParams=", &signed_params])
        .chain([", SignedHeaders=", &signed_headers])
        .chain([", Signature=", &signature])
    {
        authorization.push_str(part);
    }

    Signed {
        authorization,
        canonical_request,
        hashed_payload,
        string_to_sign,
        signature,
    }
}

/// The headers' canonical text (`name:value\n` each, sorted) and the
/// `SignedHeaders` list.
fn canonical_headers<'a>(req_headers: &[(&'a str, &'a str)]) -> (String, String) {
    let mut headers: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(req_headers.len());
    for (name, value) in req_headers {
        let key = canonical_name(name);
        if key.is_empty() {
            continue;
        }
        let value = if key == "content-type" {
            if value.starts_with("multipart/form-data") {
                Cow::Borrowed("multipart/form-data")
            } else {
                Cow::Borrowed(*value)
            }
        } else {
            lower(trim(value))
        };
        upsert(&mut headers, key, value);
    }
    headers.sort_by(|a, b| locale_compare(&a.0, &b.0));
    let mut canonical_headers = String::with_capacity(256);
    let mut signed_headers = String::with_capacity(128);
    for (k, v) in &headers {
        canonical_headers.push_str(k);
        canonical_headers.push(':');
        canonical_headers.push_str(v);
        canonical_headers.push('\n');
        if !signed_headers.is_empty() {
            signed_headers.push(';');
        }
        signed_headers.push_str(k);
    }
    (canonical_headers, signed_headers)
}

/// The hex SHA-256 of the body fields (`&name=value\r\n` each, sorted, empty
/// values skipped) and the `SignedParams` list.
fn hashed_fields(req_params: &[(&str, &[u8])]) -> (String, String) {
    let mut params: Vec<(Cow<'_, str>, &[u8])> = Vec::with_capacity(req_params.len());
    for (name, value) in req_params {
        let key = canonical_name(name);
        if key.is_empty() {
            continue;
        }
        let value: &[u8] = if key == "requestdata" {
            value
        } else {
            trim_bytes(value)
        };
        upsert(&mut params, key, value);
    }
    params.sort_by(|a, b| locale_compare(&a.0, &b.0));
    let mut hasher = Sha256::new();
    let mut signed_params = String::with_capacity(128);
    for (k, v) in &params {
        if v.is_empty() {
            continue;
        }
        hasher.update(b"&");
        hasher.update(k.as_bytes());
        hasher.update(b"=");
        hasher.update(v);
        hasher.update(b"\r\n");
        if !signed_params.is_empty() {
            signed_params.push(';');
        }
        signed_params.push_str(k);
    }
    let hashed_payload = hex::encode(hasher.finalize());
    (hashed_payload, signed_params)
}

/// A header or field name as it is signed: trimmed as JavaScript trims,
/// lower-cased, URI-component encoded. A name of `[a-z0-9._~-]` (nearly
/// every one) is left as it is after one look at its bytes.
fn canonical_name(name: &str) -> Cow<'_, str> {
    let plain = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~');
    if name.bytes().all(plain) {
        return Cow::Borrowed(name);
    }
    uri_component(lower(js_trim(name)))
}

/// Both ends of `b` are printable ASCII: JavaScript's `trim` leaves it as
/// it is, whatever lies between.
fn untrimmable(b: &[u8]) -> bool {
    matches!((b.first(), b.last()), (Some(x), Some(y)) if x.is_ascii_graphic() && y.is_ascii_graphic())
}

/// `js_trim(s)`, without reading `s` when it is [`untrimmable`].
fn trim(s: &str) -> &str {
    if untrimmable(s.as_bytes()) {
        s
    } else {
        js_trim(s)
    }
}

/// A field's value trimmed as JavaScript trims its string; raw bytes that
/// are not UTF-8 as they are. Checked for UTF-8 only when not
/// [`untrimmable`].
fn trim_bytes(value: &[u8]) -> &[u8] {
    if untrimmable(value) {
        return value;
    }
    match std::str::from_utf8(value) {
        Ok(s) => js_trim(s).as_bytes(),
        Err(_) => value,
    }
}

/// `s.to_lowercase()`, borrowing `s` when it has no upper-case letter.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// The parts of an `authorization` header built by [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The secret id from `Credential=`.
    pub secret_id: String,
    /// The `YYYY-MM-DD` date from the credential scope.
    pub date: String,
    /// The `SignedParams` names (empty when the part is absent or empty).
    pub signed_params: Vec<String>,
    /// The `SignedHeaders` names.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

/// Parse an `authorization` header of the form
/// `TC3-HMAC-SHA256 Credential={id}/{date}/tcb/tc3_request, [SignedParams=a;b, ]SignedHeaders=x;y, Signature={hex}`.
///
/// Returns `None` when the algorithm, the credential scope (service `tcb`,
/// terminator `tc3_request`), `SignedHeaders` or `Signature` is missing or
/// malformed. Never panics.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let mut credential = None;
    let mut signed_params = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=')?;
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedParams" => &mut signed_params,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.trim());
    }
    let credential = credential?;
    let mut scope = credential.rsplitn(4, '/');
    let terminator = scope.next()?;
    let service = scope.next()?;
    let date = scope.next()?;
    let secret_id = scope.next()?;
    if terminator != "tc3_request" || service != SERVICE || secret_id.is_empty() {
        return None;
    }
    if date.len() != 10 || !date.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let signature = signature?;
    if signature.is_empty() || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let list = |s: &str| -> Vec<String> {
        s.split(';')
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect()
    };
    Some(ParsedAuthorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        signed_params: signed_params.map(list).unwrap_or_default(),
        signed_headers: list(signed_headers?),
        signature: signature.to_string(),
    })
}

/// The body's fixed field names that have upper-case letters, lower-cased
/// as the signature lists them (`apiName` → `apiname`), spelled out so that
/// neither side allocates to lower-case them on every call.
pub fn lowered_field_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "apiName" => "apiname",
        "requestData" => "requestdata",
        "envName" => "envname",
        "wxCloudApiToken" => "wxcloudapitoken",
        "wxCloudbaseAccesstoken" => "wxcloudbaseaccesstoken",
        "tcb_sessionToken" => "tcb_sessiontoken",
        "sessionToken" => "sessiontoken",
        "crossAuthorizationToken" => "crossauthorizationtoken",
        _ => return None,
    })
}

/// The TC3 signing key: `HMAC(HMAC(HMAC("TC3" + secret, date), service),
/// "tc3_request")`. It is the same for every request signed with one secret
/// on one (UTC) day, so the last one is kept: three of the four HMACs of a
/// signature are skipped on every call but the first of a day.
fn signing_key(secret_key: &str, date: &str) -> [u8; 32] {
    /// (secret key, date, signing key).
    static LAST: std::sync::Mutex<Option<(SecretString, String, [u8; 32])>> =
        std::sync::Mutex::new(None);
    if let Some((s, d, k)) = crate::lock::lock(&LAST).as_ref() {
        if s.expose_secret() == secret_key && d == date {
            return *k;
        }
    }
    let [_, _, signing] = key_chain(secret_key, date);
    *crate::lock::lock(&LAST) = Some((secret_key.into(), date.to_string(), signing));
    signing
}

/// kDate = HMAC(`TC3` + secretKey, date), kService = HMAC(kDate, `tcb`),
/// kSigning = HMAC(kService, `tc3_request`).
fn key_chain(secret_key: &str, date: &str) -> [[u8; 32]; 3] {
    let mut key = Vec::with_capacity(3 + secret_key.len());
    key.extend_from_slice(b"TC3");
    key.extend_from_slice(secret_key.as_bytes());
    let secret_date = hmac_sha256(&key, date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, SERVICE.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    [secret_date, secret_service, secret_signing]
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails; the fallback only
    // keeps the function total.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0u8; 32],
    }
}

/// Insert or replace (a later duplicate wins, like assigning to a JS object).
fn upsert<K: PartialEq, V>(list: &mut Vec<(K, V)>, key: K, value: V) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => list.push((key, value)),
    }
}

/// `encodeURIComponent`, then `! ' ( ) *` percent-encoded too (the
/// reference's `camSafeUrlEncode`); `s` itself when nothing needs encoding.
fn uri_component(s: Cow<'_, str>) -> Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    if s.bytes().all(unreserved) {
        return s;
    }
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}

/// `url.replace(/^https?:/, '').split('?')[0]` and the query of Node's
/// legacy `url.parse(url)` (text after `?` up to `#`, with the characters
/// `url.parse` auto-escapes percent-encoded).
fn split_url(url: &str) -> (&str, Cow<'_, str>) {
    let no_scheme = url
        .strip_prefix("https:")
        .or_else(|| url.strip_prefix("http:"))
        .unwrap_or(url);
    let path = no_scheme.split('?').next().unwrap_or("");
    let raw_query = match url.split_once('?') {
        Some((_, q)) => q.split('#').next().unwrap_or(""),
        None => "",
    };
    let escaped = |c: char| {
        matches!(
            c,
            '{' | '}' | '|' | '\\' | '^' | '`' | '<' | '>' | '"' | ' ' | '\r' | '\n' | '\t' | '\''
        )
    };
    if !raw_query.contains(escaped) {
        return (path, Cow::Borrowed(raw_query));
    }
    let mut query = String::with_capacity(raw_query.len() * 3);
    for c in raw_query.chars() {
        if escaped(c) {
            let _ = write!(query, "%{:02X}", u32::from(c));
        } else {
            query.push(c);
        }
    }
    (path, Cow::Owned(query))
}

/// Primary-strength ordering close to ICU root collation for the ASCII
/// characters header and field names use: white space, then punctuation and
/// symbols (in ICU's order), then digits, then letters case-insensitively;
/// ties broken by lower case first, then by code point.
fn locale_compare(a: &str, b: &str) -> Ordering {
    plain_order(a.as_bytes(), b.as_bytes()).unwrap_or_else(|| weighed_order(a, b))
}

/// [`locale_compare`] by the collation weights, for any two names.
fn weighed_order(a: &str, b: &str) -> Ordering {
    // Compared lazily, character by character (no allocation: signing sorts
    // every header and field name on each call).
    let primary = a
        .chars()
        .map(collation_weight)
        .cmp(b.chars().map(collation_weight));
    primary
        .then_with(|| {
            let upper = |c: char| c.is_ascii_uppercase();
            a.chars().map(upper).cmp(b.chars().map(upper))
        })
        .then_with(|| a.cmp(b))
}

/// [`locale_compare`] of two names that are lower-case letters, digits, `_`
/// and `-` up to where they differ (nearly every header and field name):
/// there the collation weights order those characters as `_`, `-`,
/// digits, letters, one weight each, so comparing a key per byte decides,
/// and the tie-breaks never apply (equal weights mean equal bytes). `None`
/// when another character comes first: the full comparison decides.
fn plain_order(a: &[u8], b: &[u8]) -> Option<Ordering> {
    let key = |c: u8| match c {
        b'_' => Some(0),
        b'-' => Some(1),
        b'0'..=b'9' | b'a'..=b'z' => Some(c),
        _ => None,
    };
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (key(x)?, key(y)?);
        if x != y {
            return Some(x.cmp(&y));
        }
    }
    Some(a.len().cmp(&b.len()))
}

fn collation_weight(c: char) -> u32 {
    const PUNCT: &[u8] = b"_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
    // Letters and digits first: they are most of every name.
    if c.is_ascii_alphabetic() {
        return 0x3000 + u32::from(c.to_ascii_lowercase());
    }
    if c.is_ascii_digit() {
        return 0x2000 + u32::from(c);
    }
    if c.is_whitespace() {
        return u32::from(c);
    }
    if c.is_ascii() {
        if let Some(i) = PUNCT.iter().position(|&p| char::from(p) == c) {
            return 0x1000 + i as u32;
        }
    }
    0x10_0000 + u32::from(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let v = crate::test_support::shared_json("conformance/signature-vectors.json");
        v["vectors"].as_array().unwrap().clone()
    }

    fn stringify(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    fn run(v: &Value) -> Signed {
        let headers: Vec<(&str, String)> = v["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), stringify(v)))
            .collect();
        let params_owned: Vec<(&str, Vec<u8>)> = v["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let bytes = match v {
                    Value::Object(o) => hex::decode(o["hex"].as_str().unwrap()).unwrap(),
                    other => stringify(other).into_bytes(),
                };
                (k.as_str(), bytes)
            })
            .collect();
        let params: Vec<(&str, &[u8])> = params_owned
            .iter()
            .map(|(k, b)| (*k, b.as_slice()))
            .collect();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sign(&SignRequest {
            method: v["method"].as_str().unwrap(),
            url: v["url"].as_str().unwrap(),
            headers: &headers,
            params: &params,
            secret_id: v["secretId"].as_str().unwrap(),
            secret_key: v["secretKey"].as_str().unwrap(),
            timestamp: v["timestamp"].as_i64().unwrap(),
        })
    }

    #[test]
    fn every_vector_matches() {
        let vs = vectors();
        assert!(!vs.is_empty());
        for v in &vs {
            let s = run(v);
            assert_eq!(
                s.authorization,
                v["expected_authorization"].as_str().unwrap(),
                "vector {}",
                v["name"]
            );
        }
    }

    #[test]
    fn first_vector_intermediates() {
        let vs = vectors();
        let v = &vs[0];
        let s = run(v);
        let i = &v["intermediate"];
        assert_eq!(
            s.canonical_request,
            i["canonical_request"].as_str().unwrap()
        );
        assert_eq!(s.hashed_payload, i["hashed_payload"].as_str().unwrap());
        assert_eq!(s.string_to_sign, i["string_to_sign"].as_str().unwrap());
        let date = &i["string_to_sign"]
            .as_str()
            .unwrap()
            .split('\n')
            .nth(2)
            .unwrap()[..10];
        let [k_date, k_service, k_signing] = key_chain(v["secretKey"].as_str().unwrap(), date);
        assert_eq!(hex::encode(k_date), i["secret_date_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(k_service),
            i["secret_service_hex"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(k_signing),
            i["secret_signing_hex"].as_str().unwrap()
        );
        assert_eq!(s.signature, i["signature_hex"].as_str().unwrap());
    }

    #[test]
    fn parse_round_trip() {
        for v in &vectors() {
            let s = run(v);
            let p = parse_authorization(&s.authorization).unwrap();
            assert_eq!(p.secret_id, v["secretId"].as_str().unwrap());
            assert_eq!(p.signature, s.signature);
            assert_eq!(p.date.len(), 10);
            assert!(p.signed_headers.contains(&"host".to_string()));
            assert!(p.signed_params.contains(&"action".to_string()));
        }
        let p = parse_authorization(
            "TC3-HMAC-SHA256 Credential=a/b/2024-01-01/tcb/tc3_request, SignedHeaders=host, Signature=ab",
        )
        .unwrap();
        assert_eq!(p.secret_id, "a/b");
        assert!(p.signed_params.is_empty());
        for bad in [
            "",
            "TC3-HMAC-SHA256",
            "Bearer x",
            "TC3-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256 Credential=a/2024-01-01/cos/tc3_request, SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256 Credential=a/2024-01-01/tcb/tc3_request, SignedHeaders=host",
            "TC3-HMAC-SHA256 Credential=a/2024-01-01/tcb/tc3_request, SignedHeaders=host, Signature=zz",
            "TC3-HMAC-SHA256 Credential=a/2024-01-01/tcb/tc3_request, Bogus, Signature=ab",
        ] {
            assert!(parse_authorization(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(split_url("http://h/a?x=1#f"), ("//h/a", "x=1".into()));
        assert_eq!(split_url("https://h/a"), ("//h/a", "".into()));
        // Node's url.parse auto-escaping (checked with node 20).
        assert_eq!(
            split_url("http://h:1/ad min?env=a b{}|\\^`<>\"'&x=\u{e9}#frag"),
            (
                "//h:1/ad min",
                "env=a%20b%7B%7D%7C%5C%5E%60%3C%3E%22%27&x=\u{e9}".into()
            )
        );
    }

    #[test]
    fn secret_never_printed() {
        let v = &vectors()[0];
        let s = run(v);
        let shown = format!("{s:?}");
        assert!(!shown.contains(v["secretKey"].as_str().unwrap()));
        assert!(!shown.contains(&hex::encode(signing_key(
            v["secretKey"].as_str().unwrap(),
            &s.string_to_sign.split('\n').nth(2).unwrap()[..10]
        ))));
    }

    /// Every pair of names up to three characters long over an alphabet of
    /// plain characters and others (upper case, punctuation, space, non-ASCII)
    /// orders the same with the shortcut as by the weights alone.
    #[test]
    fn shortcuts_give_what_the_full_rules_give() {
        let texts: &[&[u8]] = &[
            b"",
            b"x",
            b"content-type",
            b"x-tcb-source",
            b"requestData",
            b" x-sdk-version",
            b"x-sdk-version\t",
            b"a b",
            b"a.b~c_d-e",
            b"Mixed",
            b"wx:x",
            b"a%b",
            "\u{feff}bom".as_bytes(),
            "nbsp\u{a0}".as_bytes(),
            "\u{85}nel".as_bytes(),
            "\u{3000}\u{6587}".as_bytes(),
            b"tab\tinside",
            b"\xffnot utf-8",
            b"not utf-8\xfe",
            b"x\xff ",
        ];
        for &t in texts {
            if let Ok(s) = std::str::from_utf8(t) {
                assert_eq!(canonical_name(s), uri_component(lower(js_trim(s))), "{s:?}");
                assert_eq!(trim(s), js_trim(s), "{s:?}");
            }
            let full = match std::str::from_utf8(t) {
                Ok(s) => js_trim(s).as_bytes(),
                Err(_) => t,
            };
            assert_eq!(trim_bytes(t), full, "{t:?}");
        }
    }

    #[test]
    fn plain_order_is_the_full_comparison() {
        let alphabet = ['_', '-', '0', '9', 'a', 'z', 'A', '.', ' ', '%', 'é'];
        let mut names = vec![String::new()];
        for len in 1..=3 {
            let mut more = Vec::new();
            for n in names.iter().filter(|n| n.chars().count() == len - 1) {
                more.extend(alphabet.iter().map(|c| format!("{n}{c}")));
            }
            names.extend(more);
        }
        let mut shortcuts = 0;
        for a in &names {
            for b in &names {
                assert_eq!(locale_compare(a, b), weighed_order(a, b), "{a:?} vs {b:?}");
                shortcuts += usize::from(plain_order(a.as_bytes(), b.as_bytes()).is_some());
            }
        }
        // The shortcut decided a good part of the pairs (else this proves nothing).
        assert!(shortcuts > names.len() * names.len() / 10, "{shortcuts}");
    }

    #[test]
    fn locale_order() {
        let mut names = vec!["tcb_sessiontoken", "tcbx", "tcb1", "tcb-a", "a"];
        names.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(names, ["a", "tcb_sessiontoken", "tcb-a", "tcb1", "tcbx"]);
    }
}
