//! Faults on demand.
//!
//! A [`FaultSpec`] names an API (or `"*"`), a kind, and when it fires: for
//! the next `times` matching calls, with a seeded `probability`, both (each
//! matching call fires with that probability, at most `times` times), or,
//! with neither, on every matching call until [`Faults::clear`].
//!
//! API names are the same at both doors: the gateway's `apiName`
//! (`tcb.createenvandresource`) and, for HTTPS paths, the path with `/`
//! turned into `.` (`/tcb/createenvandresource` → `tcb.createenvandresource`,
//! `/cgi-bin/stable_token` → `cgi-bin.stable_token`). `door` restricts a
//! fault to `gateway` or `https`.
//!
//! Kinds, and when they act relative to processing the request:
//! - `errcode`: answer `{"errcode":N,"errmsg":"system error"}` (N = -1 by
//!   default, or -1000, or any) without processing;
//! - `delay`: wait `delay_ms` first, then carry on (delays add up with any
//!   other fault that fires on the same call);
//! - `drop_before`: close the connection without processing or answering;
//! - `drop_after`: process (an environment IS created), then close the
//!   connection without answering;
//! - `status`: answer HTTP `status` (default 503) without processing;
//! - `malformed`: process, then answer a body the client cannot decode
//!   (garbage protobuf at the gateway, invalid JSON over HTTPS);
//! - `truncated`: process, then send the answer's headers and only half of
//!   its body, and close the connection.

use std::sync::{Arc, Mutex};

use serde::Deserialize;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Errcode,
    Delay,
    DropBefore,
    DropAfter,
    Status,
    Malformed,
    Truncated,
}

/// Which door a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    Gateway,
    Https,
}

fn star() -> String {
    "*".to_string()
}

/// A fault, as given by the user (JSON, camelCase or snake_case).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// API name or `"*"` (default).
    #[serde(default = "star")]
    pub api: String,
    pub kind: FaultKind,
    /// Restrict to one door (default: both).
    #[serde(default)]
    pub door: Option<Door>,
    /// For `errcode`: the errcode to answer (default -1).
    #[serde(default)]
    pub errcode: Option<i64>,
    /// For `errcode`: the errmsg (default `system error`).
    #[serde(default)]
    pub errmsg: Option<String>,
    /// For `delay`: milliseconds.
    #[serde(default, alias = "delayMs")]
    pub delay_ms: Option<u64>,
    /// For `status`: the HTTP status (default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// Fire on at most this many matching calls.
    #[serde(default)]
    pub times: Option<u64>,
    /// Fire on each matching call with this probability (0..=1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Seed of the probability draw (default 0), for repeatable runs.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl FaultSpec {
    /// Parse and validate a JSON spec.
    pub fn from_json(v: serde_json::Value) -> Result<FaultSpec, String> {
        let spec: FaultSpec =
            serde_json::from_value(v).map_err(|e| format!("invalid fault spec: {e}"))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Check the fields make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.api.is_empty() {
            return Err("invalid fault spec: api must not be empty".into());
        }
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err("invalid fault spec: probability must be within 0..=1".into());
            }
        }
        match self.kind {
            FaultKind::Delay if self.delay_ms.is_none() => {
                Err("invalid fault spec: kind delay needs delay_ms".into())
            }
            FaultKind::Delay if self.delay_ms.unwrap_or(0) > 600_000 => {
                Err("invalid fault spec: delay_ms is at most 600000".into())
            }
            FaultKind::Status => match self.status {
                None => Ok(()),
                Some(s) if (500..=599).contains(&s) => Ok(()),
                Some(_) => Err("invalid fault spec: status must be a 5xx".into()),
            },
            _ => Ok(()),
        }
    }
}

/// Is `api` a name a fault can match: `*`, an API of the gateway
/// ([`crate::wechat::KNOWN_APIS`], [`crate::miniprogram::APIS`]), an
/// HTTPS path the emulator serves with its slashes as dots
/// ([`crate::wechat::HTTPS_APIS`]: the token endpoints among them), or an
/// API of the core's path table (a gateway call of it meets faults before
/// the gateway refuses it)? A misspelt name would match no call.
pub fn known_api(api: &str) -> bool {
    api == "*"
        || super::wechat::KNOWN_APIS.contains(&api)
        || super::miniprogram::APIS.contains(&api)
        || super::wechat::HTTPS_APIS.iter().any(|(_, a)| *a == api)
        || crate::wire::paths::all().iter().any(|r| r.api == api)
}

/// What to do to one call, decided before processing it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultPlan {
    /// Total delay before anything else.
    pub delay_ms: u64,
    /// The one non-delay fault that fired, if any.
    pub action: Option<FaultAction>,
}

/// A fault that changes the outcome of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    Errcode(i64, String),
    DropBefore,
    DropAfter,
    Status(u16),
    Malformed,
    Truncated,
}

struct Active {
    spec: FaultSpec,
    remaining: Option<u64>,
    rng: fastrand::Rng,
}

/// The active faults. Cheap to clone.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<Vec<Active>>>,
}

impl Faults {
    /// Add a fault (after the ones already active).
    pub fn inject(&self, spec: FaultSpec) -> Result<(), String> {
        spec.validate()?;
        let rng = fastrand::Rng::with_seed(spec.seed.unwrap_or(0));
        let remaining = spec.times;
        self.lock().push(Active {
            spec,
            remaining,
            rng,
        });
        Ok(())
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        wx_cloud_core::wire::lock(&self.inner)
    }

    /// Decide the faults of one call of `api` at `door`, consuming `times`.
    pub fn decide(&self, api: &str, door: Door) -> FaultPlan {
        let mut plan = FaultPlan::default();
        let mut g = self.lock();
        for a in g.iter_mut() {
            if a.spec.api != "*" && a.spec.api != api {
                continue;
            }
            if a.spec.door.is_some_and(|d| d != door) {
                continue;
            }
            if a.remaining == Some(0) {
                continue;
            }
            // A terminal fault already chose this call's outcome: later
            // terminal faults neither fire nor spend their `times`.
            if a.spec.kind != FaultKind::Delay && plan.action.is_some() {
                continue;
            }
            if let Some(p) = a.spec.probability {
                if a.rng.f64() >= p {
                    continue;
                }
            }
            if let Some(r) = a.remaining.as_mut() {
                *r -= 1;
            }
            let s = &a.spec;
            plan.action = match s.kind {
                FaultKind::Delay => {
                    plan.delay_ms = plan.delay_ms.saturating_add(s.delay_ms.unwrap_or(0));
                    plan.action
                }
                FaultKind::Errcode => Some(FaultAction::Errcode(
                    s.errcode.unwrap_or(-1),
                    s.errmsg.clone().unwrap_or_else(|| "system error".into()),
                )),
                FaultKind::DropBefore => Some(FaultAction::DropBefore),
                FaultKind::DropAfter => Some(FaultAction::DropAfter),
                FaultKind::Status => Some(FaultAction::Status(s.status.unwrap_or(503))),
                FaultKind::Malformed => Some(FaultAction::Malformed),
                FaultKind::Truncated => Some(FaultAction::Truncated),
            };
        }
        // Spent faults go away.
        g.retain(|a| a.remaining != Some(0));
        plan
    }

    /// How many faults are active.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No fault is active.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> FaultSpec {
        FaultSpec::from_json(v).unwrap()
    }

    #[test]
    fn times_counts_down_per_api() {
        let f = Faults::default();
        f.inject(spec(
            json!({"api":"tcb.createenvandresource","kind":"drop_after","times":2}),
        ))
        .unwrap();
        assert_eq!(
            f.decide("tcb.describeenvs", Door::Gateway),
            FaultPlan::default()
        );
        for _ in 0..2 {
            assert_eq!(
                f.decide("tcb.createenvandresource", Door::Https).action,
                Some(FaultAction::DropAfter)
            );
        }
        assert_eq!(
            f.decide("tcb.createenvandresource", Door::Https).action,
            None
        );
        assert!(f.is_empty());
    }

    #[test]
    fn probability_is_seeded_and_repeatable() {
        let run = || {
            let f = Faults::default();
            f.inject(spec(
                json!({"kind":"errcode","errcode":-1000,"probability":0.3,"seed":7}),
            ))
            .unwrap();
            (0..200)
                .map(|_| f.decide("x", Door::Gateway).action.is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let fired = a.iter().filter(|x| **x).count();
        assert!((30..=90).contains(&fired), "fired {fired}");
    }

    #[test]
    fn delays_add_up_and_first_terminal_wins() {
        let f = Faults::default();
        f.inject(spec(json!({"kind":"delay","delayMs":5}))).unwrap();
        f.inject(spec(json!({"kind":"status","status":502,"times":1})))
            .unwrap();
        f.inject(spec(json!({"kind":"errcode","times":1}))).unwrap();
        f.inject(spec(json!({"kind":"delay","delay_ms":7,"door":"https"})))
            .unwrap();
        let p = f.decide("a", Door::Https);
        assert_eq!(p.delay_ms, 12);
        assert_eq!(p.action, Some(FaultAction::Status(502)));
        // The errcode fault was not spent by the call the status fault took.
        let p = f.decide("a", Door::Gateway);
        assert_eq!(p.delay_ms, 5);
        assert_eq!(
            p.action,
            Some(FaultAction::Errcode(-1, "system error".into()))
        );
        f.clear();
        assert_eq!(f.decide("a", Door::Gateway), FaultPlan::default());
    }

    #[test]
    fn known_apis_are_those_of_both_doors() {
        for api in [
            "*",
            "tcb.createenvandresource",
            "tcb.describeenvs",
            "wxacode.getUnlimited",
            "cgi-bin.token",
            "cgi-bin.stable_token",
            "cgi-bin.component.api_component_token",
            "cgi-bin.component.api_authorizer_token",
            "cgi-bin.component.api_query_auth",
        ] {
            assert!(known_api(api), "{api}");
        }
        for api in [
            "",
            "tcb.createenvandresourc",
            "tcb/createenvandresource",
            "/cgi-bin/token",
            "cgi-bin.component.api_authoriser_token",
            "**",
        ] {
            assert!(!known_api(api), "{api}");
        }
    }

    #[test]
    fn rejects_bad_specs() {
        for v in [
            json!({"kind":"nope"}),
            json!({"kind":"delay"}),
            json!({"kind":"status","status":200}),
            json!({"kind":"errcode","probability":1.5}),
            json!({"kind":"errcode","typo":1}),
            json!({"kind":"errcode","api":""}),
            json!("errcode"),
        ] {
            assert!(FaultSpec::from_json(v.clone()).is_err(), "{v}");
        }
    }
}
