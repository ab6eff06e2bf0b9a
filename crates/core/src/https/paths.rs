//! The path table: where each cloud-call API lives in the HTTPS modes.
//!
//! The cloud call names an API (`wxacode.getUnlimited`); WeChat's HTTPS
//! interface puts it at a path of its own (`POST /wxa/getwxacodeunlimit`)
//! and wants its params in the JSON body, in the query string or in a
//! multipart form. The table is data (`paths.json`, beside this file): one
//! row per API that supports cloud calls, with the documentation page the
//! row was read from. An API missing from it keeps the dotted name as its
//! path (`a.b` → `POST /a/b`, params as JSON), and the debug line says so.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The table's JSON text, as shipped.
pub const TABLE_JSON: &str = include_str!("paths.json");

/// The HTTP method of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Method {
    /// `GET`, the params in the query string.
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Where the params go (besides those listed in [`Route::query`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Params {
    /// A JSON object as the body.
    Json,
    /// Every param in the query string (a GET).
    Query,
    /// A `multipart/form-data` body: media params as file parts named
    /// after the param, other params as text parts.
    Multipart,
}

/// What a successful answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// WeChat JSON.
    #[default]
    Json,
    /// Bytes (an image, a media file); errors still come as JSON.
    Binary,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The cloud-call name, e.g. `wxacode.getUnlimited`.
    pub api: String,
    /// The HTTP method.
    pub method: Method,
    /// The path on `api.weixin.qq.com`, e.g. `/wxa/getwxacodeunlimit`.
    pub path: String,
    /// How the params travel (JSON body, query string, multipart form).
    pub params: Params,
    /// Params (by their wire name, snake_case) that go in the query string
    /// whatever `params` says, e.g. `type` of `/cgi-bin/media/upload`.
    #[serde(default)]
    pub query: Vec<String>,
    /// What the answer is (JSON, or binary on success).
    #[serde(default)]
    pub answer: Answer,
    /// The documentation page the row comes from.
    pub doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    sources: Vec<String>,
    apis: Vec<Route>,
}

struct Index {
    rows: Vec<Route>,
    sources: Vec<String>,
    by_api: HashMap<String, usize>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    // The shipped table is checked by the tests below (it parses, and every
    // row is well-formed), so an empty table here cannot happen in a build
    // that passed them; it would only mean every API falls back to `a.b`.
    let table: Table = serde_json::from_str(TABLE_JSON).unwrap_or(Table {
        sources: Vec::new(),
        apis: Vec::new(),
    });
    let by_api = table
        .apis
        .iter()
        .enumerate()
        .map(|(i, r)| (r.api.clone(), i))
        .collect();
    Index {
        rows: table.apis,
        sources: table.sources,
        by_api,
    }
});

/// The row of a cloud-call name (`None`: not in the table).
pub fn route(api: &str) -> Option<&'static Route> {
    INDEX.by_api.get(api).map(|&i| &INDEX.rows[i])
}

/// Every row, sorted by API name.
pub fn all() -> &'static [Route] {
    &INDEX.rows
}

/// Where the table's rows were read.
pub fn sources() -> &'static [String] {
    &INDEX.sources
}

/// Why a row is malformed (`None`: it is well-formed).
pub fn row_problem(r: &Route) -> Option<String> {
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let segs: Vec<&str> = r.api.split('.').collect();
    if segs.len() < 2 || !segs.iter().all(|s| ident(s)) {
        return Some(format!("{}: the API name is not dotted identifiers", r.api));
    }
    let path_ok = r.path.starts_with('/')
        && r.path[1..].split('/').all(ident)
        && r.path
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_-".contains(&b));
    if !path_ok {
        return Some(format!(
            "{}: path {:?} is not a lowercase absolute path",
            r.api, r.path
        ));
    }
    match (r.method, r.params) {
        (Method::Get, Params::Query) | (Method::Post, Params::Json | Params::Multipart) => {}
        (m, p) => return Some(format!("{}: {} with {p:?} params", r.api, m.as_str())),
    }
    if r.params == Params::Query && !r.query.is_empty() {
        return Some(format!("{}: `query` is redundant for a GET", r.api));
    }
    if let Some(q) = r
        .query
        .iter()
        .find(|q| !ident(q) || q.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Some(format!(
            "{}: query param {q:?} is not a snake_case name",
            r.api
        ));
    }
    if !r.doc.starts_with("https://developers.weixin.qq.com/") || !r.doc.ends_with(".html") {
        return Some(format!(
            "{}: doc {:?} is not a WeChat documentation page",
            r.api, r.doc
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_row_is_well_formed() {
        let t: Table = serde_json::from_str(TABLE_JSON).expect("paths.json parses");
        assert!(t.apis.len() >= 90, "{} rows", t.apis.len());
        assert!(!t.sources.is_empty());
        assert_eq!(all().len(), t.apis.len());
        let problems: Vec<String> = all().iter().filter_map(row_problem).collect();
        assert!(problems.is_empty(), "{problems:#?}");
        // Sorted and unique by API name: one row per API.
        for w in all().windows(2) {
            assert!(w[0].api < w[1].api, "{} then {}", w[0].api, w[1].api);
        }
    }

    #[test]
    fn malformed_rows_are_caught() {
        let good = route("wxacode.getUnlimited").unwrap().clone();
        assert_eq!(row_problem(&good), None);
        let bad = |f: &dyn Fn(&mut Route)| {
            let mut r = good.clone();
            f(&mut r);
            row_problem(&r).is_some()
        };
        assert!(bad(&|r| r.api = "wxacode".into()));
        assert!(bad(&|r| r.path = "wxa/x".into()));
        assert!(bad(&|r| r.path = "/wxa/../x".into()));
        assert!(bad(&|r| r.path = "/wxa/x?y=1".into()));
        assert!(bad(&|r| r.method = Method::Get));
        assert!(bad(&|r| r.query = vec!["imgUrl".into()]));
        assert!(bad(&|r| r.doc = "http://example.com/x.html".into()));
    }

    // One piece: a table of expected routes (rustfmt spreads each row over
    // five lines) and its check; split, it would only cut the table in two.
    #[test]
    fn the_common_apis_have_their_documented_paths() {
        let cases = [
            (
                "wxacode.getUnlimited",
                Method::Post,
                "/wxa/getwxacodeunlimit",
                Params::Json,
            ),
            ("wxacode.get", Method::Post, "/wxa/getwxacode", Params::Json),
            (
                "wxacode.createQRCode",
                Method::Post,
                "/cgi-bin/wxaapp/createwxaqrcode",
                Params::Json,
            ),
            (
                "subscribeMessage.send",
                Method::Post,
                "/cgi-bin/message/subscribe/send",
                Params::Json,
            ),
            (
                "security.msgSecCheck",
                Method::Post,
                "/wxa/msg_sec_check",
                Params::Json,
            ),
            (
                "security.imgSecCheck",
                Method::Post,
                "/wxa/img_sec_check",
                Params::Multipart,
            ),
            (
                "customerServiceMessage.uploadTempMedia",
                Method::Post,
                "/cgi-bin/media/upload",
                Params::Multipart,
            ),
            (
                "customerServiceMessage.send",
                Method::Post,
                "/cgi-bin/message/custom/send",
                Params::Json,
            ),
            (
                "customerServiceMessage.getTempMedia",
                Method::Get,
                "/cgi-bin/media/get",
                Params::Query,
            ),
            (
                "urlscheme.generate",
                Method::Post,
                "/wxa/generatescheme",
                Params::Json,
            ),
            (
                "urllink.generate",
                Method::Post,
                "/wxa/generate_urllink",
                Params::Json,
            ),
            (
                "phonenumber.getPhoneNumber",
                Method::Post,
                "/wxa/business/getuserphonenumber",
                Params::Json,
            ),
            (
                "tcb.createenvandresource",
                Method::Post,
                "/tcb/createenvandresource",
                Params::Json,
            ),
            (
                "midas.getBalance",
                Method::Post,
                "/cgi-bin/midas/getbalance",
                Params::Json,
            ),
            (
                "midas.paySandbox",
                Method::Post,
                "/cgi-bin/midas/sandbox/pay",
                Params::Json,
            ),
        ];
        for (api, method, path, params) in cases {
            let r = route(api).unwrap_or_else(|| panic!("{api} missing"));
            assert_eq!(
                (r.method, r.path.as_str(), r.params),
                (method, path, params),
                "{api}"
            );
        }
        assert_eq!(
            route("customerServiceMessage.uploadTempMedia")
                .unwrap()
                .query,
            ["type"]
        );
        assert_eq!(
            route("wxacode.getUnlimited").unwrap().answer,
            Answer::Binary
        );
        assert_eq!(route("no.suchApi"), None);
    }
}
