//! The legacy gateway signature: tcb-admin-node's default `signMethod: 'v2'`
//! (the COS-style `q-sign-algorithm=sha1` scheme), as its
//! `src/utils/auth.js` computes it. The signature travels as the body field
//! `authorization`, not as a header:
//!
//! ```text
//! q-sign-algorithm=sha1&q-ak={secretId}&q-sign-time={start};{end}&q-key-time={start};{end}
//!   &q-header-list={names;…}&q-url-param-list={names;…}&q-signature={hex}
//! ```
//!
//! 1. `signKey = hex(HMAC-SHA1(secretKey, keyTime))`;
//! 2. `formatString = method "\n" pathname "\n" kv(params) "\n" kv(headers) "\n"`
//!    where `kv` sorts the names as sent, lower-cases them and joins
//!    `enc(name)=enc(value)` with `&` (`enc`: RFC 3986, only `A-Za-z0-9-_.~`
//!    unescaped); the method is lower case (`post`), the pathname `/admin`;
//! 3. `stringToSign = "sha1\n" signTime "\n" hex(SHA1(formatString)) "\n"`;
//! 4. `signature = hex(HMAC-SHA1(signKey, stringToSign))`.
//!
//! The client signs every body field it has at that moment, and names them
//! in `q-url-param-list`; the fields it adds afterwards (`requestData` of
//! `wx.openApi`, `sessionToken`, `sdk_version`) are not signed.

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::{Digest, Sha1};

/// What `encodeURIComponent` plus the `!'()*` replacements leave unescaped.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a legacy `authorization` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAuthorization {
    pub secret_id: String,
    /// `q-sign-time` as sent (`start;end`, Unix seconds).
    pub sign_time: String,
    /// `q-key-time` as sent.
    pub key_time: String,
    /// Start and end of `q-sign-time`.
    pub valid_from: i64,
    pub valid_until: i64,
    /// Lower-case names of the signed headers.
    pub header_list: Vec<String>,
    /// Lower-case names of the signed body fields.
    pub param_list: Vec<String>,
    pub signature: String,
}

/// Is `value` a legacy authorization (rather than a TC3 one)?
pub fn is_legacy(value: &str) -> bool {
    value.starts_with("q-sign-algorithm=")
}

/// Parse a legacy `authorization` value; `None` if any part is missing or malformed.
pub fn parse(value: &str) -> Option<LegacyAuthorization> {
    let mut parts = std::collections::HashMap::new();
    for part in value.split('&') {
        let (k, v) = part.split_once('=')?;
        if parts.insert(k, v).is_some() {
            return None;
        }
    }
    if parts.get("q-sign-algorithm") != Some(&"sha1") {
        return None;
    }
    let sign_time = parts.get("q-sign-time")?.to_string();
    let (from, until) = sign_time.split_once(';')?;
    let list = |k: &str| -> Option<Vec<String>> {
        Some(
            parts
                .get(k)?
                .split(';')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
        )
    };
    let signature = parts.get("q-signature")?.to_string();
    let secret_id = parts.get("q-ak")?.to_string();
    if secret_id.is_empty() || signature.len() != 40 {
        return None;
    }
    Some(LegacyAuthorization {
        secret_id,
        valid_from: from.parse().ok()?,
        valid_until: until.parse().ok()?,
        key_time: parts.get("q-key-time")?.to_string(),
        sign_time,
        header_list: list("q-header-list")?,
        param_list: list("q-url-param-list")?,
        signature,
    })
}

fn kv(pairs: &mut [(&str, &[u8])]) -> String {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (name, value) in pairs.iter() {
        if !out.is_empty() {
            out.push('&');
        }
        let name = name.to_lowercase();
        out.extend(utf8_percent_encode(&name, UNRESERVED));
        out.push('=');
        out.extend(utf8_percent_encode(
            &String::from_utf8_lossy(value),
            UNRESERVED,
        ));
    }
    out
}

fn hmac_sha1_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// What a legacy signature covers.
pub struct LegacySignRequest<'a> {
    /// Lower case, as the client signs it (`post`).
    pub method: &'a str,
    /// `/admin`.
    pub pathname: &'a str,
    /// The signed body fields, names as sent.
    pub params: &'a [(&'a str, &'a [u8])],
    /// The signed headers, names as the client wrote them.
    pub headers: &'a [(&'a str, &'a [u8])],
    pub sign_time: &'a str,
    pub key_time: &'a str,
    pub secret_key: &'a str,
}

/// The hex `q-signature` of a request.
pub fn signature(req: &LegacySignRequest<'_>) -> String {
    let sign_key = hmac_sha1_hex(req.secret_key.as_bytes(), req.key_time.as_bytes());
    let format_string = format!(
        "{}\n{}\n{}\n{}\n",
        req.method,
        req.pathname,
        kv(&mut req.params.to_vec()),
        kv(&mut req.headers.to_vec())
    );
    let string_to_sign = format!(
        "sha1\n{}\n{}\n",
        req.sign_time,
        hex::encode(Sha1::digest(format_string.as_bytes()))
    );
    hmac_sha1_hex(sign_key.as_bytes(), string_to_sign.as_bytes())
}

/// The whole `authorization` value a client would send (tests use it).
pub fn authorization(secret_id: &str, req: &LegacySignRequest<'_>) -> String {
    let names = |pairs: &[(&str, &[u8])]| {
        let mut n: Vec<String> = pairs.iter().map(|(k, _)| k.to_string()).collect();
        n.sort();
        n.join(";").to_lowercase()
    };
    format!(
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={}&q-key-time={}&q-header-list={}&q-url-param-list={}&q-signature={}",
        req.sign_time,
        req.key_time,
        names(req.headers),
        names(req.params),
        signature(req)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by tcb-admin-node 1.23.0's own signer:
    /// `Date.prototype.getTime = () => 1764288000500`, then
    /// `require('tcb-admin-node/src/utils/auth.js').getAuth({ SecretId: 'AKIDtest',
    /// SecretKey: 'emulator-test-secret-key', Method: 'post', pathname: '/admin',
    /// Query: { …the params below, timestamp as a number… }, Headers: { …below… } })`.
    #[test]
    fn matches_tcb_admin_node() {
        let params: Vec<(&str, &[u8])> = vec![
            ("action", b"wx.openApi"),
            ("apiName", b"tcb.describeenvs"),
            ("envName", b"emulator-env"),
            ("timestamp", b"1764288000500"),
            ("tcb_sessionToken", b""),
            ("wxCloudApiToken", b""),
        ];
        let headers: Vec<(&str, &[u8])> = vec![
            ("user-agent", b"tcb-admin-sdk/1.23.0"),
            ("x-tcb-source", b",not_scf"),
        ];
        let req = LegacySignRequest {
            method: "post",
            pathname: "/admin",
            params: &params,
            headers: &headers,
            sign_time: "1764287999;1764288899",
            key_time: "1764287999;1764288899",
            secret_key: "emulator-test-secret-key",
        };
        let auth = authorization("AKIDtest", &req);
        assert_eq!(auth, EXPECTED);
        let parsed = parse(&auth).unwrap();
        assert_eq!(parsed.valid_from, 1764287999);
        assert_eq!(
            parsed.param_list,
            [
                "action",
                "apiname",
                "envname",
                "tcb_sessiontoken",
                "timestamp",
                "wxcloudapitoken"
            ]
        );
        assert!(parse("q-sign-algorithm=md5&q-ak=x").is_none());
        assert!(parse("garbage").is_none());
    }

    const EXPECTED: &str = "q-sign-algorithm=sha1&q-ak=AKIDtest&q-sign-time=1764287999;1764288899&q-key-time=1764287999;1764288899&q-header-list=user-agent;x-tcb-source&q-url-param-list=action;apiname;envname;tcb_sessiontoken;timestamp;wxcloudapitoken&q-signature=99968f38b14f7c59bf1ea1dbda27ed4ba18bc5ad";

    #[test]
    fn encodes_like_cam_safe_url_encode() {
        let s: String = utf8_percent_encode("a b!'()*~-_.é,", UNRESERVED).collect();
        assert_eq!(s, "a%20b%21%27%28%29%2A~-_.%C3%A9%2C");
    }
}
