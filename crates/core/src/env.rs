//! Environment lookup through an injectable source.
//!
//! A cloud function's runtime hands credentials and context to the SDK in
//! environment variables. Every read goes through an [`EnvSource`], so tests
//! (and users who emulate a function locally) can supply a map instead of
//! touching the process environment. A call works on a [`Context`]: a
//! snapshot of the variables it may need, taken once when the call starts.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Where environment variables come from.
pub trait EnvSource {
    /// The value of `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

/// A map of variables, used instead of the process environment.
impl EnvSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// The context variables the platform always provides to the SDK.
pub const CONTEXT_VARS: &[&str] = &[
    "TRIGGER_SRC",
    "SCF_NAMESPACE",
    "TENCENTCLOUD_RUNENV",
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSIONTOKEN",
    "WX_CONTEXT_KEYS",
    "WX_TRIGGER_API_TOKEN_V0",
    "WX_CLIENTIP",
    "WX_CLIENTIPV6",
    "TCB_CONTEXT_KEYS",
    "TCB_CONTEXT_CNFG",
    "LOGINTYPE",
];

/// Variables that normally reach the SDK through `TCB_CONTEXT_KEYS` /
/// `WX_CONTEXT_KEYS`, read directly as a fallback, plus the plain process
/// settings the SDK consults.
pub const OTHER_VARS: &[&str] = &[
    "WX_API_TOKEN",
    "TCB_ENV",
    "TCB_SEQID",
    "TCB_SESSIONTOKEN",
    "TCB_SOURCE",
    "WX_CLOUDBASE_ACCESSTOKEN",
    "TENCENTCLOUD_REGION",
    "CBR_ENV_ID",
    "SUMERU_ENV",
    "TENCENTCLOUD",
    "TCB_TRACELOG",
    "DEBUG",
    "WX_APPID",
    "WX_APPSECRET",
    "WX_API_BASE_URL",
];

/// A snapshot of the environment one call works with.
///
/// A client keeps its snapshot for the calls that follow while the
/// environment is unchanged, and a call looks up some 40 names in it: the
/// variables are a list sorted by name (a binary search, no hashing), and
/// what is read out of a variable (`TCB_CONTEXT_CNFG`'s JSON and URL) is read
/// once per snapshot.
#[derive(Default, Clone)]
pub struct Context {
    /// Sorted by name, one entry per name.
    vars: Vec<(String, String)>,
    /// [`crate::settings::injected_url`] of these variables.
    pub(crate) injected_url: OnceLock<Result<Option<String>, String>>,
}

/// Two snapshots are equal when their variables are (what was read out of
/// them follows from those).
impl PartialEq for Context {
    fn eq(&self, other: &Context) -> bool {
        self.vars == other.vars
    }
}

impl Eq for Context {}

/// Shows the variable names only: values include secrets.
impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vars.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Context").field("vars", &names).finish()
    }
}

impl Context {
    /// Take the variables a call needs from `source`: the fixed context set,
    /// the fallbacks, and every name listed (comma separated) in
    /// `TCB_CONTEXT_KEYS` and `WX_CONTEXT_KEYS`.
    pub fn snapshot(source: &dyn EnvSource) -> Context {
        let mut ctx = Context::default();
        for name in CONTEXT_VARS.iter().chain(OTHER_VARS) {
            if let Some(v) = source.get(name) {
                ctx.set(name, v);
            }
        }
        for list in ["TCB_CONTEXT_KEYS", "WX_CONTEXT_KEYS"] {
            let Some(names) = ctx.get(list).map(str::to_string) else {
                continue;
            };
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if ctx.get(name).is_some() {
                    continue;
                }
                if let Some(v) = source.get(name) {
                    ctx.set(name, v);
                }
            }
        }
        ctx
    }

    /// Set `name` (a later value replaces an earlier one).
    fn set(&mut self, name: &str, value: String) {
        match self.vars.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) => self.vars[i].1 = value,
            Err(i) => self.vars.insert(i, (name.to_string(), value)),
        }
    }

    /// A context made of exactly these variables (for tests).
    pub fn from_pairs<I, K, V>(pairs: I) -> Context
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut ctx = Context::default();
        for (k, v) in pairs {
            ctx.set(&k.into(), v.into());
        }
        ctx
    }

    /// The value of `name`, if set (even when empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| self.vars[i].1.as_str())
    }

    /// The value of `name` if set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Running on the cloud function platform (SCF).
    pub fn is_scf(&self) -> bool {
        self.get("TENCENTCLOUD_RUNENV") == Some("SCF")
    }

    /// Running on CloudBase Run.
    pub fn is_cbr(&self) -> bool {
        self.non_empty("CBR_ENV_ID").is_some()
    }

    /// Running on Sumeru.
    pub fn is_sumeru(&self) -> bool {
        matches!(self.get("SUMERU_ENV"), Some("formal" | "pre" | "test"))
    }

    /// Declared to run inside Tencent Cloud (we never probe the metadata host).
    pub fn is_tencent_cloud(&self) -> bool {
        self.get("TENCENTCLOUD") == Some("true")
    }

    /// Internal traffic: the request may use the platform's internal host over http.
    pub fn is_internal(&self) -> bool {
        self.is_scf() || self.is_cbr() || self.is_sumeru() || self.is_tencent_cloud()
    }

    /// The tag sent in `x-tcb-source` after the comma.
    pub fn run_env_tag(&self) -> &'static str {
        if self.is_scf() {
            "scf"
        } else if self.is_cbr() {
            "cbr"
        } else if self.is_sumeru() {
            "sumeru"
        } else if self.is_tencent_cloud() {
            "tencentcloud"
        } else {
            "unknown"
        }
    }

    /// Debug logging asked for through `DEBUG`, read as the `debug` package
    /// reads it: a comma- or space-separated list of namespace patterns,
    /// where `*` matches anything and a leading `-` excludes. Our namespace
    /// is `wx-cloud-openapi`: `DEBUG=wx-cloud-*`, `DEBUG=*` and
    /// `DEBUG=*,-express:*` enable it; `DEBUG=*,-wx-cloud-*` does not.
    pub fn debug_enabled(&self) -> bool {
        const NAMESPACE: &str = "wx-cloud-openapi";
        self.get("DEBUG").is_some_and(|d| {
            let patterns = d.split([',', ' ']).filter(|p| !p.is_empty());
            let (mut included, mut excluded) = (false, false);
            for p in patterns {
                match p.strip_prefix('-') {
                    Some(ex) => excluded |= glob_matches(ex, NAMESPACE),
                    None => included |= glob_matches(p, NAMESPACE) || p == "wx-cloud-openapi:*",
                }
            }
            included && !excluded
        })
    }
}

/// `pattern` (where `*` matches any run of characters) matches all of `text`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty(); // no `*`: an exact match
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_expands_listed_context_keys() {
        let src = HashMap::from([
            (
                "TCB_CONTEXT_KEYS".to_string(),
                "TCB_ENV, CUSTOM_X".to_string(),
            ),
            ("WX_CONTEXT_KEYS".to_string(), "WX_ONLY".to_string()),
            ("TCB_ENV".to_string(), "e1".to_string()),
            ("CUSTOM_X".to_string(), "x".to_string()),
            ("WX_ONLY".to_string(), "w".to_string()),
            ("UNRELATED".to_string(), "u".to_string()),
        ]);
        let ctx = Context::snapshot(&src);
        assert_eq!(ctx.get("TCB_ENV"), Some("e1"));
        assert_eq!(ctx.get("CUSTOM_X"), Some("x"));
        assert_eq!(ctx.get("WX_ONLY"), Some("w"));
        assert_eq!(ctx.get("UNRELATED"), None);
    }

    #[test]
    fn run_env_tags() {
        assert_eq!(
            Context::from_pairs([("TENCENTCLOUD_RUNENV", "SCF")]).run_env_tag(),
            "scf"
        );
        assert_eq!(
            Context::from_pairs([("CBR_ENV_ID", "x")]).run_env_tag(),
            "cbr"
        );
        assert_eq!(
            Context::from_pairs([("SUMERU_ENV", "pre")]).run_env_tag(),
            "sumeru"
        );
        assert_eq!(
            Context::from_pairs([("SUMERU_ENV", "dev")]).run_env_tag(),
            "unknown"
        );
        assert_eq!(
            Context::from_pairs([("TENCENTCLOUD", "true")]).run_env_tag(),
            "tencentcloud"
        );
        assert!(!Context::default().is_internal());
    }

    #[test]
    fn debug_namespaces() {
        assert!(Context::from_pairs([("DEBUG", "foo,wx-cloud-openapi")]).debug_enabled());
        assert!(Context::from_pairs([("DEBUG", "*")]).debug_enabled());
        assert!(!Context::from_pairs([("DEBUG", "wx-cloud")]).debug_enabled());
        // Wildcards and exclusions, as the `debug` package has them.
        for on in [
            "wx-cloud-*",
            "wx-*",
            "*-openapi",
            "wx*openapi",
            "foo wx-cloud-*",
            "*,-express:*",
        ] {
            assert!(Context::from_pairs([("DEBUG", on)]).debug_enabled(), "{on}");
        }
        for off in [
            "wx-cloud-*,-wx-cloud-openapi",
            "*,-wx-*",
            "wx-cloud-api*",
            "express:*",
            "-wx-cloud-openapi",
            "",
        ] {
            assert!(
                !Context::from_pairs([("DEBUG", off)]).debug_enabled(),
                "{off}"
            );
        }
    }
}
