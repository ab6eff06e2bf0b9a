//! One HTTPS API request: `{method} {base}{path}?access_token=…` with the
//! params where the path table ([`paths`](super::paths)) puts them (JSON
//! body, query string, multipart form); the answer becomes a result or an
//! error exactly as in the cloud call (`answer::wechat_json`, or
//! `{contentType, buffer}` for bytes).

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::form::{self, Part};
use super::paths::{self, Method, Params, Route};
use crate::call::answer::{self, Success};
use crate::call::input::{converted_params, extension_for, CallInput, Media};
use crate::error::{ApiError, ErrorKind};
use crate::http::{self, RawAnswer, TransportError};
use crate::json_text;

/// The real WeChat API host.
pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";

/// `tcb.createenvandresource` → `/tcb/createenvandresource`: the path of an
/// API missing from the table. Only letters, digits, `_` and `-` between
/// the dots: anything else could escape the path.
pub fn api_path(input: &CallInput) -> Result<String, ApiError> {
    let ok = !input.api.is_empty()
        && input.api.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if !ok {
        return Err(ApiError::invalid_param(
            "the API name must be dot-separated letters, digits, `_` or `-`",
        ));
    }
    Ok(format!("/{}", input.api.replace('.', "/")))
}

/// The body of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body (a GET).
    None,
    /// JSON text.
    Json(String),
    /// A multipart form: `(content type with its boundary, bytes)`.
    Form(String, Bytes),
}

/// Where and how an API is sent, before the token is known.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub path: String,
    /// Query pairs besides `access_token`.
    pub query: Vec<(String, String)>,
    pub body: Body,
    /// The table's row; `None`: the API is not in the table (`a.b` → `/a/b`).
    pub route: Option<&'static Route>,
}

impl Prepared {
    /// What the debug line says about the path.
    pub fn describe(&self) -> String {
        match self.route {
            Some(_) => format!("{} {} (path table)", self.method.as_str(), self.path),
            None => format!(
                "{} {} (not in the path table: the dotted name as the path)",
                self.method.as_str(),
                self.path
            ),
        }
    }
}

/// A param's value as text (query string, form field): a string as is,
/// anything else as its JSON text.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => json_text::write(other),
    }
}

/// Build the request of `input`: the table's method, path and param
/// placement, or the dotted name as a POST path with a JSON body.
/// Query names that carry a credential the SDK itself sends.
const CREDENTIAL_QUERY_NAMES: &[&str] = &[
    "access_token",
    "component_access_token",
    "authorizer_access_token",
];

pub fn prepare(input: &CallInput) -> Result<Prepared, ApiError> {
    let route = paths::route(&input.api);
    let path = match route {
        Some(r) => r.path.clone(),
        None => api_path(input)?,
    };
    let (method, placement, in_query): (Method, Params, &[String]) = match route {
        Some(r) => (r.method, r.params, &r.query),
        None => (Method::Post, Params::Json, &[]),
    };
    let converted = converted_params(input)?;
    let restore = |t: String| match &converted {
        Some(c) => c.restore(t),
        None => t,
    };
    let media_of = |v: &Value| {
        converted
            .as_ref()
            .and_then(|c| c.media_index(v))
            .and_then(|i| input.media.get(i))
    };
    let map: Map<String, Value> = converted
        .as_ref()
        .map(|c| c.map.clone())
        .unwrap_or_default();
    let mut query = Vec::new();
    let mut rest = Map::new();
    for (key, val) in map {
        let media = media_of(&val);
        if let Some(m) = media {
            if placement != Params::Multipart || in_query.contains(&key) {
                let why = match route {
                    Some(r) => format!(
                        "takes no media in the HTTPS modes ({} {} sends its params as {})",
                        r.method.as_str(),
                        r.path,
                        match r.params {
                            Params::Json => "JSON",
                            Params::Query => "a query string",
                            Params::Multipart => "a form",
                        }
                    ),
                    None => "is not in the path table, so the HTTPS modes cannot tell where its media goes".to_string(),
                };
                return Err(ApiError::invalid_param(format!(
                    "media parameter `{key}` ({}): {} {why}; use the cloud call",
                    m.content_type, input.api
                )));
            }
        }
        if placement == Params::Query || in_query.contains(&key) {
            let name = restore(key);
            // The SDK puts the token in the query itself: a param of that
            // name would follow it (`?access_token=OURS&access_token=THEIRS`)
            // and which one WeChat reads is not ours to guess.
            if CREDENTIAL_QUERY_NAMES.contains(&name.as_str()) {
                return Err(ApiError::invalid_param(format!(
                    "parameter `{name}` of {}: the SDK sends the token itself; pass the token through init() (accessToken, authorizerAccessToken), not as a parameter",
                    input.api
                )));
            }
            query.push((name, restore(as_text(&val))));
        } else {
            rest.insert(key, val);
        }
    }
    let body = match placement {
        Params::Query => Body::None,
        Params::Json => Body::Json(if converted.is_none() {
            "{}".to_string()
        } else {
            restore(json_text::write(&Value::Object(rest)))
        }),
        Params::Multipart => form_body(&rest, media_of, restore),
    };
    Ok(Prepared {
        method,
        path,
        query,
        body,
        route,
    })
}

/// The multipart body of the params that stay in the body: the text
/// params, then the media (each with a file name), or no body when none.
fn form_body<'m>(
    rest: &Map<String, Value>,
    media_of: impl Fn(&Value) -> Option<&'m Media>,
    restore: impl Fn(String) -> String,
) -> Body {
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut files: Vec<(String, String, &Media)> = Vec::new();
    for (key, val) in rest {
        match media_of(val) {
            Some(m) => {
                let file_name = match &m.file_name {
                    Some(n) if !n.is_empty() => n.clone(),
                    _ => format!("{key}.{}", extension_for(&m.content_type)),
                };
                files.push((restore(key.clone()), file_name, m));
            }
            None => texts.push((restore(key.clone()), restore(as_text(val)))),
        }
    }
    if texts.is_empty() && files.is_empty() {
        // e.g. `ocr.printedText({ imgUrl })`: every param in the query.
        Body::None
    } else {
        let mut parts: Vec<Part<'_>> = texts
            .iter()
            .map(|(name, value)| Part::Text { name, value })
            .collect();
        parts.extend(files.iter().map(|(name, file_name, m)| Part::File {
            name,
            file_name,
            content_type: &m.content_type,
            data: &m.data,
        }));
        let (ct, bytes) = form::encode(&parts);
        Body::Form(ct, bytes)
    }
}

/// A URL at most this long is always sendable (see [`Request::unsendable`]).
const SHORT_URL: usize = 8 * 1024;

/// A prepared request, sent once per token.
pub struct Request<'a> {
    pub client: &'a crate::http::Client,
    pub base: &'a str,
    pub prepared: &'a Prepared,
    /// The display name, e.g. `openapi.tcb.createenvandresource`.
    pub api: &'a str,
    pub convert_case: bool,
    pub timeout: Duration,
}

impl Request<'_> {
    /// The URL as messages show it (no token, no password).
    pub fn display_url(&self) -> String {
        format!(
            "{}{}?access_token=***",
            crate::redact::redact_url_userinfo(self.base),
            self.prepared.path
        )
    }

    /// The URL sent with `token`.
    fn url(&self, token: &str) -> String {
        self.url_with(&self.query(token))
    }

    fn url_with(&self, query: &str) -> String {
        format!("{}{}?{query}", self.base, self.prepared.path)
    }

    /// The query sent with `token`: form-encoded, so every byte of it is
    /// `A-Z a-z 0-9 * - . _ + % = &`.
    fn query(&self, token: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("access_token", token);
        for (k, v) in &self.prepared.query {
            q.append_pair(k, v);
        }
        q.finish()
    }

    /// The URL sent with `token`, parsed as the client parses its text,
    /// the base and path parsed once ([`http::with_query`]). `Err(text)`:
    /// the text, which does not parse (the client then says why and sends
    /// nothing).
    fn sent_url(&self, token: &str) -> Result<url::Url, String> {
        let query = self.query(token);
        let prefix = format!("{}{}", self.base, self.prepared.path);
        match http::with_query(&prefix, &query) {
            Some(url) => Ok(url),
            None => {
                let text = self.url_with(&query);
                url::Url::parse(&text).map_err(|_| text)
            }
        }
    }

    /// Why the request cannot be sent with `token` (a URL longer than
    /// `http::Uri` takes: a token of tens of kilobytes), or `None`.
    pub fn unsendable(&self, token: &str) -> Option<String> {
        let url = self.url(token);
        // Only the length can make it unsendable: the base was checked when
        // it was read, the path comes from the table or a checked API name,
        // and the query is percent-encoded. `http::Uri` takes up to 64 KB,
        // so a URL of up to 8 KB is sent without parsing it twice more here.
        if url.len() <= SHORT_URL {
            return None;
        }
        let ok = url::Url::parse(&url)
            .ok()
            .is_some_and(|u| ::http::Uri::try_from(u.as_str()).is_ok());
        (!ok).then(|| {
            format!(
                "a token of {} bytes makes a URL of {} bytes, longer than can be sent",
                token.len(),
                url.len()
            )
        })
    }

    /// The request on the wire: its method and body to `url`.
    async fn transmit<U: http::IntoUrl + Clone>(
        &self,
        url: U,
    ) -> Result<RawAnswer, TransportError> {
        match (&self.prepared.method, &self.prepared.body) {
            (Method::Post, Body::Json(json)) => http::post_json(self.client, url, json).await,
            (Method::Post, Body::Form(ct, bytes)) => {
                http::send_body(
                    self.client,
                    ::http::Method::POST,
                    url,
                    Some(ct),
                    bytes.clone(),
                )
                .await
            }
            (Method::Post, Body::None) => {
                http::send_body(self.client, ::http::Method::POST, url, None, Bytes::new()).await
            }
            (Method::Get, _) => http::get(self.client, url).await,
        }
    }

    /// Send with `token`; the answer becomes a result or an error. Nothing
    /// here retries anything that may have reached the server.
    pub async fn send(&self, token: &str, secrets: &[&str]) -> Result<Success, ApiError> {
        // Built only for a message: most calls never need it.
        let display_url = || self.display_url();
        let sent = match self.sent_url(token) {
            Ok(url) => http::within(self.timeout, self.transmit(url)).await,
            Err(text) => http::within(self.timeout, self.transmit(text.as_str())).await,
        };
        let raw = sent.map_err(|e| {
            super::with_base_hint(e, self.base).into_api_error("", &display_url(), secrets)
        })?;
        if raw.status != 200 {
            let reason = ::http::StatusCode::from_u16(raw.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            // A 404 for an API the table does not know is most likely a
            // misspelt name (WeChat's paths are not the dotted names).
            let hint = match (raw.status, self.prepared.route) {
                (404, None) => format!(
                    " ({} is not in the path table, so it went to {} {}: check the API name)",
                    self.api.strip_prefix("openapi.").unwrap_or(self.api),
                    self.prepared.method.as_str(),
                    self.prepared.path
                ),
                _ => String::new(),
            };
            return Err(ApiError::sys_err(
                ErrorKind::Http,
                &format!("{} {reason}{hint} | [{}]", raw.status, display_url()),
            ));
        }
        // As in the cloud call, an answer is text only when it says so: JSON
        // or text (`text/plain` keeps the cloud call's fallback for text that
        // is not JSON). Anything else (an image, a PDF from media/get, any
        // file) is the binary result, never "invalid json". Unlike the
        // gateway, a plain HTTP server may omit the content type: read as JSON.
        let ct = raw.content_type.trim().to_ascii_lowercase();
        let textual = ct.is_empty() || ct.starts_with("text/") || ct.contains("json");
        // An API whose row says JSON never answers with bytes: an XML error
        // page or an empty octet-stream from a proxy is not a success.
        let json_row =
            matches!(self.prepared.route, Some(r) if r.answer == super::paths::Answer::Json);
        if !textual && json_row {
            return Err(ApiError::bad_answer(format!(
                "wechat server internal error, the answer is not JSON ({} bytes of {}) | [{}]",
                raw.body.len(),
                raw.content_type.trim(),
                display_url()
            )));
        }
        if !textual {
            return Ok(Success::Binary {
                content_type: raw.content_type.trim().to_string(),
                data: raw.body.to_vec(),
            });
        }
        let text = String::from_utf8_lossy(&raw.body);
        let text_plain = ct.starts_with("text/plain");
        answer::wechat_text(self.api, &text, self.convert_case, text_plain).map_err(|mut e| {
            e.err_msg = crate::redact::scrub(&e.err_msg, secrets);
            e.raw_body = None;
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::INVALID_PARAM;

    fn input(api: &str, params: Option<&str>) -> CallInput {
        CallInput {
            api: api.to_string(),
            params_json: params.map(str::to_string),
            convert_case: true,
            ..CallInput::default()
        }
    }

    #[test]
    fn paths_come_from_the_dotted_name() {
        assert_eq!(
            api_path(&input("tcb.createenvandresource", None)).unwrap(),
            "/tcb/createenvandresource"
        );
        for bad in ["", "tcb..x", "../x", "tcb/x", "a.b?c", "a. b"] {
            assert!(api_path(&input(bad, None)).is_err(), "{bad}");
        }
    }

    fn json_body(i: &CallInput) -> String {
        match prepare(i).unwrap().body {
            Body::Json(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn body_is_the_converted_params() {
        assert_eq!(
            json_body(&input(
                "a.b",
                Some(r#"{"type":"CreatePostpayPackage","envAlias":"x","n":12345678901234567890}"#)
            )),
            r#"{"type":"CreatePostpayPackage","n":12345678901234567890,"env_alias":"x"}"#
        );
        assert_eq!(json_body(&input("a.b", None)), "{}");
        assert_eq!(json_body(&input("a.b", Some("null"))), "{}");
    }

    #[test]
    fn a_query_param_named_like_the_sdks_own_token_is_refused() {
        for params in [
            r#"{"openid":"o","accessToken":"THEIRS"}"#,
            r#"{"openid":"o","authorizerAccessToken":"THEIRS"}"#,
        ] {
            let e = prepare(&input("auth.getPaidUnionId", Some(params))).unwrap_err();
            assert_eq!(e.err_code, INVALID_PARAM, "{params}");
            assert!(e.err_msg.contains("_access_token`") || e.err_msg.contains("`access_token`"));
            assert!(!e.err_msg.contains("THEIRS"), "{}", e.err_msg);
        }
        // Any other name goes in the query as before.
        let p = prepare(&input("auth.getPaidUnionId", Some(r#"{"openid":"o"}"#))).unwrap();
        assert_eq!(p.query, vec![("openid".to_string(), "o".to_string())]);
    }

    #[test]
    fn the_table_gives_path_method_and_placement() {
        let p = prepare(&input(
            "wxacode.getUnlimited",
            Some(r#"{"scene":"a=1","isHyaline":true}"#),
        ))
        .unwrap();
        assert_eq!(
            (p.method, p.path.as_str()),
            (Method::Post, "/wxa/getwxacodeunlimit")
        );
        assert_eq!(
            p.body,
            Body::Json(r#"{"scene":"a=1","is_hyaline":true}"#.into())
        );
        assert!(p.describe().contains("(path table)"));
        let p = prepare(&input("a.b", None)).unwrap();
        assert_eq!(
            p.describe(),
            "POST /a/b (not in the path table: the dotted name as the path)"
        );
        // A GET: every param in the query, strings raw, others as JSON.
        let p = prepare(&input(
            "subscribeMessage.getPubTemplateTitleList",
            Some(r#"{"ids":"2,616","start":0,"limit":30}"#),
        ))
        .unwrap();
        assert_eq!((p.method, p.body.clone()), (Method::Get, Body::None));
        assert_eq!(
            p.query,
            [
                ("ids".to_string(), "2,616".to_string()),
                ("start".into(), "0".into()),
                ("limit".into(), "30".into())
            ]
        );
        // Query params named by the row, the rest in the form.
        let p = prepare(&input(
            "ocr.printedText",
            Some(r#"{"imgUrl":"http://x/y.png"}"#),
        ))
        .unwrap();
        assert_eq!(
            p.query,
            [("img_url".to_string(), "http://x/y.png".to_string())]
        );
        assert_eq!(p.body, Body::None);
    }

    fn with_media(api: &str, params: &str, file_name: Option<&str>) -> CallInput {
        CallInput {
            media: vec![crate::call::input::Media {
                content_type: "image/png".into(),
                file_name: file_name.map(str::to_string),
                data: b"\x89PNG\r\n\x1a\nbytes".to_vec(),
            }],
            // The out-of-band markers of the call (see call::input::Markers):
            // "\u0000km0" is media file 0.
            marker: Some("\u{0}k".into()),
            ..input(api, Some(params))
        }
    }

    #[tokio::test]
    async fn media_goes_as_a_file_part_and_type_in_the_query() {
        let m = r#"{"type":"image","media":"\u0000km0"}"#;
        let p = prepare(&with_media(
            "customerServiceMessage.uploadTempMedia",
            m,
            None,
        ))
        .unwrap();
        assert_eq!(p.path, "/cgi-bin/media/upload");
        assert_eq!(p.query, [("type".to_string(), "image".to_string())]);
        let Body::Form(ct, bytes) = p.body else {
            panic!()
        };
        let boundary = multer::parse_boundary(&ct).unwrap();
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
        let mut form = multer::Multipart::new(stream, boundary);
        let f = form.next_field().await.unwrap().unwrap();
        assert_eq!(
            (f.name(), f.file_name()),
            (Some("media"), Some("media.png"))
        );
        assert_eq!(f.content_type().unwrap().as_ref(), "image/png");
        assert_eq!(f.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\nbytes");
        assert!(form.next_field().await.unwrap().is_none());
        // fileName is kept.
        let p = prepare(&with_media(
            "security.imgSecCheck",
            r#"{"media":"\u0000km0"}"#,
            Some("x.png"),
        ))
        .unwrap();
        let Body::Form(_, bytes) = p.body else {
            panic!()
        };
        assert!(String::from_utf8_lossy(&bytes).contains(r#"name="media"; filename="x.png""#));
    }

    #[test]
    fn media_where_the_api_takes_none_is_refused_by_name() {
        let m = r#"{"scene":"\u0000km0"}"#;
        let e = prepare(&with_media("wxacode.getUnlimited", m, None)).unwrap_err();
        assert_eq!(e.err_code, INVALID_PARAM);
        assert!(
            e.err_msg.contains("media parameter `scene`"),
            "{}",
            e.err_msg
        );
        assert!(
            e.err_msg.contains("/wxa/getwxacodeunlimit"),
            "{}",
            e.err_msg
        );
        let e = prepare(&with_media("no.such", m, None)).unwrap_err();
        assert!(e.err_msg.contains("not in the path table"), "{}", e.err_msg);
    }

    #[test]
    fn the_url_sent_is_what_parsing_its_text_gives() {
        let client = crate::http::client_for(None).unwrap();
        let apis = [
            prepare(&input("tcb.createenvandresource", Some("{}"))).unwrap(),
            // Every param in the query.
            prepare(&input(
                "ocr.printedText",
                Some(r#"{"imgUrl":"http://x/a b.png?q=1&r=#f","n":"\u00e9+"}"#),
            ))
            .unwrap(),
        ];
        assert!(!apis[1].query.is_empty());
        for base in [
            "https://api.weixin.qq.com",
            "http://127.0.0.1:9",
            "http://User:PW@API.Example:80/pre fix",
            "http://[::1]:9/x/..",
        ] {
            for prepared in &apis {
                let req = Request {
                    client: &client,
                    base,
                    prepared,
                    api: "openapi.x",
                    convert_case: true,
                    timeout: Duration::from_secs(1),
                };
                for token in ["TOKEN", "a b+c&d=e#f?g/h", "\u{e9}\u{0}%41"] {
                    // Twice: the second finds the prefix kept by the first.
                    for _ in 0..2 {
                        let whole = url::Url::parse(&req.url(token)).unwrap();
                        assert_eq!(req.sent_url(token), Ok(whole), "{base} {token:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_url_longer_than_http_takes_is_unsendable() {
        let client = crate::http::client_for(None).unwrap();
        let prepared = prepare(&input("tcb.createenvandresource", Some("{}"))).unwrap();
        let req = Request {
            client: &client,
            base: "https://api.weixin.qq.com",
            prepared: &prepared,
            api: "openapi.tcb.createenvandresource",
            convert_case: true,
            timeout: Duration::from_secs(1),
        };
        // Below the short cut, at it, and above it (parsed): all sendable.
        for len in [40, SHORT_URL - 120, SHORT_URL, 30_000] {
            assert_eq!(req.unsendable(&"T".repeat(len)), None, "{len}");
        }
        // A URL past what `http::Uri` takes (64 KB) is named, with its size.
        let why = req.unsendable(&"T".repeat(70_000)).unwrap();
        assert!(
            why.contains("a token of 70000 bytes makes a URL of"),
            "{why}"
        );
        assert!(
            !why.contains("TTTT"),
            "the token itself is never shown: {why}"
        );
    }
}
