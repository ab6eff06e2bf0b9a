//! The WeChat API, as plain functions from a request to a JSON answer:
//! `tcb.createenvandresource`, `tcb.describeenvs` and the token endpoints.
//!
//! The HTTPS door ([`WeChat::https`]) checks the method and the
//! `access_token` first; the gateway door calls [`WeChat::call_api`]
//! directly (a cloud call carries no token). Both reach the same state.
//!
//! Every error's errmsg ends with ` rid: {request id}`, as WeChat's do.
//!
//! errcodes answered (all documented by WeChat):
//! - `tcb.createenvandresource`: 0; 43002 not a POST; 41001 no access_token;
//!   40014 unknown token; 42001 expired token; 40001 token replaced by a
//!   newer one and past its grace period; 44002 empty body; 47001 body is
//!   not a JSON object;
//!   40101 `type` or `alias` missing; 40097 "invalid args" when `type` is
//!   not the string `CreatePostpayPackage` or `alias` is not a string of 1–32
//!   characters from `[A-Za-z0-9_-]`; -1 / -1000 on demand (faults).
//! - token endpoints: 43001/43002 wrong method; 44002 empty body (POST
//!   endpoints); 47001 body not a JSON object; 40002 bad grant_type; 41002
//!   appid missing; 41004 secret missing; 40013 unknown appid; 40125 wrong
//!   secret; 61006 bad component_verify_ticket; 61003 authorizer unknown;
//!   61023 refresh token not current; `api_query_auth`: 61009 unknown or
//!   used authorization code, 61010 expired code.

use serde_json::{json, Map, Value};

use subtle::ConstantTimeEq;

use super::state::{now_ms, State, TokenError, TokenKind};

/// Credentials the token endpoints accept.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// (appid, secret) pairs for `/cgi-bin/token` and `/cgi-bin/stable_token`.
    pub apps: Vec<(String, String)>,
    /// (component_appid, component_appsecret) pairs.
    pub components: Vec<(String, String)>,
    /// The accepted `component_verify_ticket`; `None` accepts any non-empty one.
    pub component_verify_ticket: Option<String>,
    /// Tickets are pushed to the platform (an event URL is configured): a
    /// pushed ticket (still valid) is accepted, besides the one above; any
    /// other is not.
    pub require_pushed_ticket: bool,
}

/// The API names this emulator knows (gateway `apiName`s).
pub const KNOWN_APIS: &[&str] = &["tcb.createenvandresource", "tcb.describeenvs"];

/// The HTTPS paths answered here (not the mini-program APIs') and their
/// API names: the path with its slashes as dots.
pub const HTTPS_APIS: &[(&str, &str)] = &[
    ("/tcb/createenvandresource", "tcb.createenvandresource"),
    ("/tcb/describeenvs", "tcb.describeenvs"),
    ("/cgi-bin/token", "cgi-bin.token"),
    ("/cgi-bin/stable_token", "cgi-bin.stable_token"),
    (
        "/cgi-bin/component/api_component_token",
        "cgi-bin.component.api_component_token",
    ),
    (
        "/cgi-bin/component/api_authorizer_token",
        "cgi-bin.component.api_authorizer_token",
    ),
    (
        "/cgi-bin/component/api_query_auth",
        "cgi-bin.component.api_query_auth",
    ),
];

/// The WeChat side of the emulator.
#[derive(Clone)]
pub struct WeChat {
    state: State,
    creds: std::sync::Arc<Credentials>,
}

/// A WeChat error answer. Like WeChat's, its errmsg ends with the request
/// id: `invalid access_token rid: 6929c7a0-1f3e5d7b-0a2c4e6f`.
pub fn wx_error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: {}", rid())})
}

/// An error answer with exactly the errmsg given (a fault's: the user chose it).
pub fn wx_error_as_given(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": msg})
}

/// A WeChat request id: the time in hex, then two random 8-hex-digit groups.
fn rid() -> String {
    format!(
        "{:08x}-{:08x}-{:08x}",
        super::state::now_secs() as u32,
        fastrand::u32(..),
        fastrand::u32(..)
    )
}

fn ok(mut fields: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("errcode".into(), 0.into());
    m.insert("errmsg".into(), "ok".into());
    m.append(&mut fields);
    Value::Object(m)
}

/// Query string → pairs.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn query_get<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Parse a JSON object body, as WeChat does: an empty body is 44002
/// "empty post data", anything but a JSON object 47001 "data format error".
fn body_object(body: &[u8]) -> Result<Map<String, Value>, Value> {
    if body.is_empty() {
        return Err(wx_error(44002, "empty post data"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(wx_error(47001, "data format error")),
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    m.get(name).and_then(Value::as_str)
}

fn valid_alias(alias: &str) -> bool {
    (1..=32).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn secret_matches(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn token_error(e: TokenError) -> Value {
    match e {
        TokenError::Unknown => wx_error(40014, "invalid access_token"),
        TokenError::Expired => wx_error(42001, "access_token expired"),
        TokenError::Superseded => wx_error(
            40001,
            "invalid credential, access_token is invalid or not latest",
        ),
    }
}

impl WeChat {
    pub fn new(state: State, creds: Credentials) -> WeChat {
        WeChat {
            state,
            creds: std::sync::Arc::new(creds),
        }
    }

    /// The emulator's own app (the first of `apps`): the app of a cloud
    /// call made without `openapi({ appid })`.
    pub fn own_appid(&self) -> String {
        self.creds
            .apps
            .first()
            .map(|(a, _)| a.clone())
            .unwrap_or_default()
    }

    /// The `access_token` of an API request (an app's or an authorizer's):
    /// its app, or WeChat's error answer.
    pub fn check_access_token(&self, q: &[(String, String)]) -> Result<String, Value> {
        let token = match query_get(q, "access_token") {
            Some(t) if !t.is_empty() => t,
            _ => return Err(wx_error(41001, "access_token missing")),
        };
        let accepted = [TokenKind::Classic, TokenKind::Stable, TokenKind::Authorizer];
        self.state
            .check_token(token, &accepted, now_ms())
            .map_err(token_error)
    }

    /// Is `path` one of the HTTPS endpoints? Returns its API name.
    pub fn api_of_path(path: &str) -> Option<&'static str> {
        HTTPS_APIS
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, api)| *api)
    }

    /// An API called with its parameters in `account` (the appid of the
    /// call's access token, or the `appid` a cloud call named; empty for the
    /// function's own account). `None` for an API this emulator does not know.
    pub async fn call_api(
        &self,
        api: &str,
        params: &Map<String, Value>,
        via: &str,
        account: &str,
    ) -> Option<Value> {
        match api {
            "tcb.createenvandresource" => Some(self.create_env(params, via, account).await),
            "tcb.describeenvs" => Some(self.describe_envs()),
            _ => None,
        }
    }

    /// `tcb.createenvandresource` once the token (if any) is checked.
    pub async fn create_env(&self, params: &Map<String, Value>, via: &str, account: &str) -> Value {
        let (ty, alias) = match (params.get("type"), params.get("alias")) {
            (Some(t), Some(a)) => (t, a),
            _ => return wx_error(40101, "missing parameter"),
        };
        if ty.as_str() != Some("CreatePostpayPackage") {
            return wx_error(40097, "invalid args");
        }
        let alias = match alias.as_str() {
            Some(a) if valid_alias(a) => a,
            _ => return wx_error(40097, "invalid args"),
        };
        match self.state.create_environment(alias, via, account).await {
            Ok(r) => {
                let mut m = Map::new();
                m.insert("envid".into(), r.env.into());
                ok(m)
            }
            Err(_) => wx_error(-1000, "system error"),
        }
    }

    /// `tcb.describeenvs`.
    pub fn describe_envs(&self) -> Value {
        let list: Vec<Value> = self
            .state
            .environments()
            .into_iter()
            .map(|e| {
                json!({
                    "env": e.env,
                    "alias": e.alias,
                    "create_time": e.create_time,
                    "status": e.status,
                })
            })
            .collect();
        let mut m = Map::new();
        m.insert("info_list".into(), Value::Array(list));
        ok(m)
    }

    fn check_app(&self, appid: Option<&str>, secret: Option<&str>) -> Result<String, Value> {
        let appid = match appid {
            Some(a) if !a.is_empty() => a,
            _ => return Err(wx_error(41002, "appid missing")),
        };
        let secret = match secret {
            Some(s) if !s.is_empty() => s,
            _ => return Err(wx_error(41004, "appsecret missing")),
        };
        match self.creds.apps.iter().find(|(a, _)| a == appid) {
            None => Err(wx_error(40013, "invalid appid")),
            Some((_, s)) if !secret_matches(s, secret) => Err(wx_error(40125, "invalid appsecret")),
            Some(_) => Ok(appid.to_string()),
        }
    }

    fn token_answer(name: &str, token: String, expires_in: u64) -> Value {
        let mut m = Map::new();
        m.insert(name.into(), token.into());
        m.insert("expires_in".into(), expires_in.into());
        Value::Object(m)
    }

    /// `GET /cgi-bin/token`.
    fn classic_token(&self, q: &[(String, String)], now: u64) -> Value {
        if query_get(q, "grant_type") != Some("client_credential") {
            return wx_error(40002, "invalid grant_type");
        }
        match self.check_app(query_get(q, "appid"), query_get(q, "secret")) {
            Err(e) => e,
            Ok(appid) => {
                let t = self.state.issue_classic(&appid, now);
                Self::token_answer("access_token", t.token, t.expires_in)
            }
        }
    }

    /// `POST /cgi-bin/stable_token`.
    fn stable_token(&self, body: &Map<String, Value>, now: u64) -> Value {
        if str_field(body, "grant_type") != Some("client_credential") {
            return wx_error(40002, "invalid grant_type");
        }
        let force = match body.get("force_refresh") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return wx_error(40097, "invalid args"),
        };
        match self.check_app(str_field(body, "appid"), str_field(body, "secret")) {
            Err(e) => e,
            Ok(appid) => {
                let t = self.state.issue_stable(&appid, force, now);
                Self::token_answer("access_token", t.token, t.expires_in)
            }
        }
    }

    /// `POST /cgi-bin/component/api_component_token`.
    fn component_token(&self, body: &Map<String, Value>, now: u64) -> Value {
        let appid = match str_field(body, "component_appid") {
            Some(a) if !a.is_empty() => a,
            _ => return wx_error(41002, "appid missing"),
        };
        let secret = match str_field(body, "component_appsecret") {
            Some(s) if !s.is_empty() => s,
            _ => return wx_error(41004, "appsecret missing"),
        };
        match self.creds.components.iter().find(|(a, _)| a == appid) {
            None => return wx_error(40013, "invalid appid"),
            Some((_, s)) if !secret_matches(s, secret) => {
                return wx_error(40125, "invalid appsecret")
            }
            Some(_) => {}
        }
        let ticket_ok = match (
            str_field(body, "component_verify_ticket"),
            &self.creds.component_verify_ticket,
        ) {
            (Some(t), _) if self.state.pushed_ticket_valid(t, now) => true,
            (Some(t), Some(want)) => secret_matches(t, want),
            (Some(t), None) => !t.is_empty() && !self.creds.require_pushed_ticket,
            (None, _) => false,
        };
        if !ticket_ok {
            return wx_error(61006, "component_verify_ticket is invalid");
        }
        let t = self.state.issue_component(appid, now);
        Self::token_answer("component_access_token", t.token, t.expires_in)
    }

    /// The `component_access_token` of the query, and the body's
    /// `component_appid` it must belong to.
    fn check_component(
        &self,
        q: &[(String, String)],
        body: &Map<String, Value>,
        now: u64,
    ) -> Result<(), Value> {
        let token = match query_get(q, "component_access_token") {
            Some(t) if !t.is_empty() => t,
            _ => return Err(wx_error(41001, "access_token missing")),
        };
        let component = self
            .state
            .check_token(token, &[TokenKind::Component], now)
            .map_err(token_error)?;
        if str_field(body, "component_appid") != Some(component.as_str()) {
            return Err(wx_error(40013, "invalid appid"));
        }
        Ok(())
    }

    /// `POST /cgi-bin/component/api_authorizer_token?component_access_token=…`.
    fn authorizer_token(
        &self,
        q: &[(String, String)],
        body: &Map<String, Value>,
        now: u64,
    ) -> Value {
        if let Err(e) = self.check_component(q, body, now) {
            return e;
        }
        let authorizer = match str_field(body, "authorizer_appid") {
            Some(a) if !a.is_empty() => a,
            _ => return wx_error(41002, "appid missing"),
        };
        let refresh = match str_field(body, "authorizer_refresh_token") {
            Some(r) if !r.is_empty() => r,
            _ => return wx_error(40101, "missing parameter"),
        };
        match self.state.issue_authorizer(authorizer, refresh, now) {
            Ok((t, new_refresh)) => {
                let mut m = Map::new();
                m.insert("authorizer_access_token".into(), t.token.into());
                m.insert("expires_in".into(), t.expires_in.into());
                m.insert("authorizer_refresh_token".into(), new_refresh.into());
                Value::Object(m)
            }
            Err(61003) => wx_error(61003, "component is not authorized by this account"),
            Err(_) => wx_error(61023, "refresh_token is invalid"),
        }
    }

    /// `POST /cgi-bin/component/api_query_auth?component_access_token=…`.
    fn query_auth(&self, q: &[(String, String)], body: &Map<String, Value>, now: u64) -> Value {
        if let Err(e) = self.check_component(q, body, now) {
            return e;
        }
        let code = match str_field(body, "authorization_code") {
            Some(c) if !c.is_empty() => c,
            _ => return wx_error(40101, "missing parameter"),
        };
        match self.state.query_auth(code, now) {
            Ok((appid, t, refresh)) => json!({
                "authorization_info": {
                    "authorizer_appid": appid,
                    "authorizer_access_token": t.token,
                    "expires_in": t.expires_in,
                    "authorizer_refresh_token": refresh,
                    "func_info": [
                        { "funcscope_category": { "id": 49 } },
                        { "funcscope_category": { "id": 64 } }
                    ]
                }
            }),
            Err(61010) => wx_error(61010, "code is expired"),
            Err(_) => wx_error(61009, "code is invalid"),
        }
    }

    /// The HTTPS door: one request to a known path, answered as WeChat JSON.
    /// `None` if `path` is not a WeChat endpoint.
    pub async fn https(
        &self,
        method: &http::Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Option<Value> {
        let api = Self::api_of_path(path)?;
        let q = query_pairs(query);
        let now = now_ms();
        let is_post = method == http::Method::POST;
        Some(match api {
            "cgi-bin.token" => {
                if method != http::Method::GET {
                    wx_error(43001, "require GET method")
                } else {
                    self.classic_token(&q, now)
                }
            }
            _ if !is_post => wx_error(43002, "require POST method"),
            "cgi-bin.stable_token" => match body_object(body) {
                Ok(b) => self.stable_token(&b, now),
                Err(e) => e,
            },
            "cgi-bin.component.api_component_token" => match body_object(body) {
                Ok(b) => self.component_token(&b, now),
                Err(e) => e,
            },
            "cgi-bin.component.api_authorizer_token" => match body_object(body) {
                Ok(b) => self.authorizer_token(&q, &b, now),
                Err(e) => e,
            },
            "cgi-bin.component.api_query_auth" => match body_object(body) {
                Ok(b) => self.query_auth(&q, &b, now),
                Err(e) => e,
            },
            // tcb.*: an access token of an app or of an authorizer.
            _ => {
                let account = match self.check_access_token(&q) {
                    Ok(a) => a,
                    Err(e) => return Some(e),
                };
                let params = match body_object(body) {
                    Ok(b) => b,
                    Err(e) => return Some(e),
                };
                self.call_api(api, &params, "https", &account)
                    .await
                    .unwrap_or_else(|| wx_error(-1, "system error"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn wx() -> WeChat {
        let state = State::new(7200, 300);
        state.add_authorizer("wxauthz", "refresh0");
        WeChat::new(
            state,
            Credentials {
                apps: vec![("wxapp".into(), "appsecret".into())],
                components: vec![("wxcomp".into(), "compsecret".into())],
                component_verify_ticket: Some("ticket@@@1".into()),
                require_pushed_ticket: false,
            },
        )
    }

    async fn post(w: &WeChat, path_q: &str, body: &str) -> Value {
        let (path, q) = path_q.split_once('?').unwrap_or((path_q, ""));
        w.https(&Method::POST, path, Some(q), body.as_bytes())
            .await
            .unwrap()
    }

    fn code(v: &Value) -> i64 {
        v["errcode"].as_i64().unwrap_or(0)
    }

    #[tokio::test]
    async fn create_env_error_codes() {
        let w = wx();
        let tok = w.state.issue_stable("wxapp", false, now_ms()).token;
        let p = format!("/tcb/createenvandresource?access_token={tok}");
        let good = r#"{"type":"CreatePostpayPackage","alias":"test-env"}"#;
        let get = w
            .https(&Method::GET, "/tcb/createenvandresource", Some(""), b"")
            .await
            .unwrap();
        assert_eq!(code(&get), 43002);
        assert_eq!(
            code(&post(&w, "/tcb/createenvandresource", good).await),
            41001
        );
        assert_eq!(
            code(&post(&w, "/tcb/createenvandresource?access_token=", good).await),
            41001
        );
        assert_eq!(
            code(&post(&w, "/tcb/createenvandresource?access_token=zzz", good).await),
            40014
        );
        assert_eq!(code(&post(&w, &p, r#"{"alias":"x"}"#).await), 40101);
        assert_eq!(
            code(&post(&w, &p, r#"{"type":"CreatePostpayPackage"}"#).await),
            40101
        );
        assert_eq!(
            code(&post(&w, &p, r#"{"type":"Other","alias":"x"}"#).await),
            40097
        );
        assert_eq!(
            code(&post(&w, &p, r#"{"type":"CreatePostpayPackage","alias":5}"#).await),
            40097
        );
        assert_eq!(
            code(&post(&w, &p, r#"{"type":"CreatePostpayPackage","alias":"a b"}"#).await),
            40097
        );
        assert_eq!(code(&post(&w, &p, "").await), 44002);
        assert_eq!(code(&post(&w, &p, " ").await), 47001);
        assert_eq!(code(&post(&w, &p, "{not json").await), 47001);
        assert_eq!(
            code(&post(&w, "/cgi-bin/component/api_component_token", "").await),
            44002
        );
        let e = post(&w, &p, "").await;
        let msg = e["errmsg"].as_str().unwrap();
        let rid = msg.strip_prefix("empty post data rid: ").unwrap();
        assert_eq!(wx_cloud_core::wire::wechat_rid(msg).as_deref(), Some(rid));
        assert!(
            rid.len() == 26 && rid.split('-').all(|p| p.len() == 8),
            "{rid}"
        );
        assert_eq!(code(&post(&w, &p, "[1]").await), 47001);
        let v = post(&w, &p, good).await;
        assert_eq!(v["errmsg"], "ok");
        assert!(v["envid"].as_str().unwrap().starts_with("test-env-"));
        let d = post(&w, &format!("/tcb/describeenvs?access_token={tok}"), "{}").await;
        assert_eq!(d["info_list"][0]["env"], v["envid"]);
        assert_eq!(d["info_list"][0]["status"], "NORMAL");
        // Answer key order: errcode, errmsg, envid.
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            format!(
                r#"{{"errcode":0,"errmsg":"ok","envid":"{}"}}"#,
                v["envid"].as_str().unwrap()
            )
        );
    }

    #[tokio::test]
    async fn expired_token_is_42001() {
        let state = State::new(0, 0);
        let w = WeChat::new(
            state.clone(),
            Credentials {
                apps: vec![("wxapp".into(), "s".into())],
                ..Default::default()
            },
        );
        let tok = state.issue_stable("wxapp", false, now_ms()).token;
        let v = post(
            &w,
            &format!("/tcb/createenvandresource?access_token={tok}"),
            "{}",
        )
        .await;
        assert_eq!(code(&v), 42001);
    }

    #[tokio::test]
    async fn token_endpoints() {
        let w = wx();
        let q = |s: &str| Some(s.to_string());
        let get = |query: Option<String>| {
            let w = w.clone();
            async move {
                w.https(&Method::GET, "/cgi-bin/token", query.as_deref(), b"")
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            code(&get(q("grant_type=x&appid=wxapp&secret=appsecret")).await),
            40002
        );
        assert_eq!(
            code(&get(q("grant_type=client_credential&secret=a")).await),
            41002
        );
        assert_eq!(
            code(&get(q("grant_type=client_credential&appid=wxapp")).await),
            41004
        );
        assert_eq!(
            code(&get(q("grant_type=client_credential&appid=no&secret=a")).await),
            40013
        );
        assert_eq!(
            code(&get(q("grant_type=client_credential&appid=wxapp&secret=bad")).await),
            40125
        );
        let t = get(q(
            "grant_type=client_credential&appid=wxapp&secret=appsecret",
        ))
        .await;
        assert_eq!(t["expires_in"], 7200);
        assert!(t["access_token"].as_str().unwrap().len() > 20);

        let s1 = post(
            &w,
            "/cgi-bin/stable_token",
            r#"{"grant_type":"client_credential","appid":"wxapp","secret":"appsecret"}"#,
        )
        .await;
        let s2 = post(&w, "/cgi-bin/stable_token", r#"{"grant_type":"client_credential","appid":"wxapp","secret":"appsecret","force_refresh":false}"#).await;
        assert_eq!(s1["access_token"], s2["access_token"]);
        let s3 = post(&w, "/cgi-bin/stable_token", r#"{"grant_type":"client_credential","appid":"wxapp","secret":"appsecret","force_refresh":true}"#).await;
        assert_ne!(s1["access_token"], s3["access_token"]);
        assert_eq!(
            code(
                &post(
                    &w,
                    "/cgi-bin/stable_token",
                    r#"{"grant_type":"client_credential","appid":"wxapp","secret":"x"}"#
                )
                .await
            ),
            40125
        );
        let g = w
            .https(&Method::GET, "/cgi-bin/stable_token", None, b"")
            .await
            .unwrap();
        assert_eq!(code(&g), 43002);

        let bad_ticket = post(&w, "/cgi-bin/component/api_component_token", r#"{"component_appid":"wxcomp","component_appsecret":"compsecret","component_verify_ticket":"x"}"#).await;
        assert_eq!(code(&bad_ticket), 61006);
        let c = post(&w, "/cgi-bin/component/api_component_token", r#"{"component_appid":"wxcomp","component_appsecret":"compsecret","component_verify_ticket":"ticket@@@1"}"#).await;
        let ct = c["component_access_token"].as_str().unwrap().to_string();
        let path = format!("/cgi-bin/component/api_authorizer_token?component_access_token={ct}");
        let a1 = post(&w, &path, r#"{"component_appid":"wxcomp","authorizer_appid":"wxauthz","authorizer_refresh_token":"refresh0"}"#).await;
        assert_eq!(a1["authorizer_refresh_token"], "refresh0");
        let again = post(&w, &path, r#"{"component_appid":"wxcomp","authorizer_appid":"wxauthz","authorizer_refresh_token":"refresh0"}"#).await;
        assert_eq!(code(&again), 0, "{again}");
        let stale = post(&w, &path, r#"{"component_appid":"wxcomp","authorizer_appid":"wxauthz","authorizer_refresh_token":"refresh1"}"#).await;
        assert_eq!(code(&stale), 61023);
        let other = post(&w, &path, r#"{"component_appid":"wxcomp","authorizer_appid":"wxnone","authorizer_refresh_token":"x"}"#).await;
        assert_eq!(code(&other), 61003);
        // The authorizer token creates environments.
        let at = a1["authorizer_access_token"].as_str().unwrap();
        let v = post(
            &w,
            &format!("/tcb/createenvandresource?access_token={at}"),
            r#"{"type":"CreatePostpayPackage","alias":"third"}"#,
        )
        .await;
        assert_eq!(code(&v), 0);
        // A component token does not.
        let v = post(
            &w,
            &format!("/tcb/createenvandresource?access_token={ct}"),
            r#"{"type":"CreatePostpayPackage","alias":"third"}"#,
        )
        .await;
        assert_eq!(code(&v), 40014);
        let bad = post(
            &w,
            "/cgi-bin/component/api_authorizer_token?component_access_token=nope",
            "{}",
        )
        .await;
        assert_eq!(code(&bad), 40014);
    }
}
