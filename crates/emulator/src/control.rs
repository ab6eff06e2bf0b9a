//! The control API: the emulator's own operations (authorize an account,
//! revoke it, push a ticket, faults, environments, stats) over HTTP, so a
//! test in any language can drive it as `startEmulator()`'s methods do.
//!
//! Routes, under [`PREFIX`] (no WeChat path and not the gateway's `/admin`):
//! - `GET  /__emulator/`: the routes;
//! - `POST /__emulator/authorize` `{"authorizerAppid"}`: [`Control::authorize`];
//! - `POST /__emulator/revoke` `{"authorizerAppid"}`: [`Control::revoke`];
//! - `POST /__emulator/push-ticket`: [`Control::push_ticket`];
//! - `POST /__emulator/faults` (a [`FaultSpec`]) and `DELETE /__emulator/faults`;
//! - `GET  /__emulator/environments` and `GET /__emulator/stats`.
//!
//! Answers are JSON; errors are `{"error": "..."}` with a 4xx or 5xx
//! status. No answer carries a secret: push errors show the event URL
//! without its password (see [`crate::push`]).

use std::sync::Arc;

use serde_json::{json, Value};

use super::faults::{FaultSpec, Faults};
use super::push::{self, Authorized, Pusher};
use super::reply::{Reply, JSON_UTF8};
use super::state::{self, EnvironmentRecord, State};

/// The path prefix of the control API.
pub const PREFIX: &str = "/__emulator/";

/// The routes, as `GET /__emulator/` lists them.
pub const ROUTES: &[&str] = &[
    "POST /__emulator/authorize {\"authorizerAppid\"}",
    "POST /__emulator/revoke {\"authorizerAppid\"}",
    "POST /__emulator/push-ticket",
    "POST /__emulator/faults {fault spec}",
    "DELETE /__emulator/faults",
    "GET /__emulator/environments",
    "GET /__emulator/stats",
];

/// Is `path` one of the control API's (or its prefix without the slash)?
pub fn is_control_path(path: &str) -> bool {
    path.starts_with(PREFIX) || path == PREFIX.trim_end_matches('/')
}

/// The emulator's operations, shared by [`crate::Emulator`]'s methods and
/// the control routes.
pub struct Control {
    pub(crate) state: State,
    pub(crate) faults: Faults,
    pub(crate) pusher: Option<Arc<Pusher>>,
}

impl Control {
    /// An account authorizes the platform (again); see [`crate::Emulator::authorize`].
    pub async fn authorize(&self, authorizer_appid: &str) -> Result<Authorized, String> {
        if authorizer_appid.is_empty() {
            return Err("authorize(appid): appid must not be empty".into());
        }
        let (code, expires_at, again) =
            self.state
                .authorize(authorizer_appid, push::AUTH_CODE_TTL_MS, state::now_ms());
        let mut a = Authorized {
            code,
            expires_at,
            info_type: if again {
                "updateauthorized"
            } else {
                "authorized"
            },
            push_error: None,
        };
        if let Some(p) = &self.pusher {
            a.push_error = p.push_authorized(authorizer_appid, &a).await.err();
        }
        Ok(a)
    }

    /// An account takes its authorization back; see [`crate::Emulator::revoke`].
    pub async fn revoke(&self, authorizer_appid: &str) -> Result<bool, String> {
        let was = self.state.revoke(authorizer_appid);
        if was {
            if let Some(p) = &self.pusher {
                p.push_unauthorized(authorizer_appid).await.map_err(|e| {
                    format!(
                        "{authorizer_appid} is revoked, but the unauthorized event did not reach \
                         the platform: {e}"
                    )
                })?;
            }
        }
        Ok(was)
    }

    /// Push a new verify ticket now; returns it.
    pub async fn push_ticket(&self) -> Result<String, String> {
        match &self.pusher {
            Some(p) => p.push_ticket().await,
            None => Err("pushTicket(): no componentEventUrl was configured".into()),
        }
    }

    /// Add a fault, if its `api` is one the emulator knows (or `*`): a
    /// misspelt name would never fire.
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<(), String> {
        if !super::faults::known_api(&spec.api) {
            return Err(format!(
                "invalid fault spec: api {:?} is not an API the emulator knows: give a gateway \
                 apiName (tcb.createenvandresource, wxacode.getUnlimited), an HTTPS path with \
                 its slashes as dots (cgi-bin.stable_token, \
                 cgi-bin.component.api_authorizer_token), or \"*\"",
                spec.api
            ));
        }
        self.faults.inject(spec)
    }

    /// Stats; see [`crate::Emulator::stats`].
    pub fn stats(&self) -> Value {
        let mut s = self.state.stats();
        if let Some(m) = s.as_object_mut() {
            m.insert("activeFaults".into(), self.faults.len().into());
        }
        s
    }

    /// Answer one request to the control API (`path` starts with [`PREFIX`]).
    pub async fn handle(&self, method: &http::Method, path: &str, body: &[u8]) -> Reply {
        use http::Method;
        let route = path.strip_prefix(PREFIX).unwrap_or("");
        let allowed: &[Method] = match route {
            "" | "environments" | "stats" => &[Method::GET],
            "authorize" | "revoke" | "push-ticket" => &[Method::POST],
            "faults" => &[Method::POST, Method::DELETE],
            _ => {
                return error(
                    404,
                    &format!("no control route {path}; GET {PREFIX} lists them"),
                )
            }
        };
        if !allowed.contains(method) {
            let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            return error(
                405,
                &format!("{path} takes {}, not {method}", names.join(" or ")),
            );
        }
        match (route, method) {
            ("", _) => ok(&json!({ "routes": ROUTES })),
            ("environments", _) => ok(&Value::Array(
                self.state
                    .environments()
                    .iter()
                    .map(environment_json)
                    .collect(),
            )),
            ("stats", _) => ok(&self.stats()),
            ("authorize", _) => {
                let appid = match authorizer_appid(body) {
                    Ok(a) => a,
                    Err(e) => return error(400, &e),
                };
                match self.authorize(&appid).await {
                    Err(e) => error(400, &e),
                    Ok(a) => ok(&json!({
                        "authorizerAppid": appid,
                        "authorizationCode": a.code,
                        "expiresAt": a.expires_at,
                        "infoType": a.info_type,
                        "pushed": self.pusher.is_some() && a.push_error.is_none(),
                        "pushError": a.push_error,
                    })),
                }
            }
            ("revoke", _) => {
                let appid = match authorizer_appid(body) {
                    Ok(a) => a,
                    Err(e) => return error(400, &e),
                };
                match self.revoke(&appid).await {
                    Err(e) => error(502, &e),
                    Ok(was) => ok(&json!({ "authorizerAppid": appid, "revoked": was })),
                }
            }
            ("push-ticket", _) => {
                if self.pusher.is_none() {
                    return error(
                        409,
                        "push-ticket: no component event URL was configured \
                         (--component-event-url, componentEventUrl)",
                    );
                }
                match self.push_ticket().await {
                    Err(e) => error(502, &e),
                    Ok(ticket) => ok(&json!({ "componentVerifyTicket": ticket })),
                }
            }
            ("faults", &Method::DELETE) => {
                self.faults.clear();
                ok(&json!({ "activeFaults": 0 }))
            }
            ("faults", _) => {
                let spec = serde_json::from_slice::<Value>(body)
                    .map_err(|e| format!("invalid fault spec: the body is not JSON: {e}"))
                    .and_then(FaultSpec::from_json)
                    .and_then(|spec| self.inject_fault(spec));
                match spec {
                    Err(e) => error(400, &e),
                    Ok(()) => ok(&json!({ "activeFaults": self.faults.len() })),
                }
            }
            _ => error(404, &format!("no control route {path}")),
        }
    }
}

/// An environment as `emu.environments()` gives it (camelCase).
fn environment_json(e: &EnvironmentRecord) -> Value {
    json!({
        "env": e.env,
        "alias": e.alias,
        "createTime": e.create_time,
        "status": e.status,
        "createdVia": e.created_via,
        "account": e.account,
    })
}

/// `{"authorizerAppid": "..."}` (non-empty), or why not.
fn authorizer_appid(body: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body must be JSON {{\"authorizerAppid\": \"...\"}}: {e}"))?;
    match v.get("authorizerAppid").and_then(Value::as_str) {
        Some(a) if !a.is_empty() => Ok(a.to_string()),
        _ => Err(
            "the body must be JSON {\"authorizerAppid\": \"...\"} with a non-empty string".into(),
        ),
    }
}

fn ok(v: &Value) -> Reply {
    Reply::json(v)
}

fn error(status: u16, message: &str) -> Reply {
    Reply::Full {
        status,
        content_type: JSON_UTF8,
        body: serde_json::to_vec(&json!({ "error": message })).unwrap_or_default(),
    }
}
