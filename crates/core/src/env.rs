//! Environment lookup through an injectable source.
//!
//! A cloud function's runtime hands credentials and context to the SDK in
//! environment variables. Every read goes through an [`EnvSource`], so tests
//! (and users who emulate a function locally) can supply a map instead of
//! touching the process environment. A call works on a [`Context`]: a
//! snapshot of the variables it may need, taken once when the call starts.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::json_text::js_trim;

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
    /// Sorted by [`by_name`], one entry per name.
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

/// The order of a context's variables: by the name's length, then its
/// bytes. A lookup (a call makes about a hundred) then compares the bytes of
/// only the names as long as the one it looks for.
fn by_name(k: &str, name: &str) -> std::cmp::Ordering {
    k.len().cmp(&name.len()).then_with(|| k.cmp(name))
}

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
            for name in names.split(',').map(js_trim).filter(|n| !n.is_empty()) {
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

    /// [`Context::snapshot`] of [`ProcessEnv`], read in one pass over the
    /// process's environment; `None` when it holds exactly the variables of
    /// `kept` (which a caller then keeps using: nothing is copied).
    ///
    /// `Context::snapshot` asks for each of ~30 names, a `getenv` each
    /// (a scan of the whole environment) and a copy of each value found:
    /// ~25,000 instructions per call with 45 variables, where this takes
    /// about half (bench/NOTES.md, "Reading the environment in the core"). A
    /// name's first entry counts, as for `getenv`; the names listed in
    /// `TCB_CONTEXT_KEYS` / `WX_CONTEXT_KEYS` are trimmed as JavaScript's
    /// `trim()` does, as `process.env` is read in JavaScript (index.js).
    ///
    /// The environment must not change meanwhile: call it on the thread
    /// that changes it (Node's main thread, for `process.env`; a worker
    /// created with `SHARE_ENV` that writes it at the same time races with
    /// this read, as with any `getenv`).
    pub fn from_environ(kept: Option<&Context>) -> Option<Context> {
        let mut found: Vec<(&str, &[u8])> = Vec::with_capacity(32);
        // SAFETY: the caller's thread is the one that changes the
        // environment (see above), so its entries stay in place until
        // `found` is dropped, at the end of this function.
        let entries = unsafe { environ::entries() };
        let Some(entries) = entries else {
            let now = Context::snapshot(&ProcessEnv);
            return (kept != Some(&now)).then_some(now);
        };
        let fixed = fixed_names();
        for entry in entries.clone() {
            let name = entry.name();
            // Most entries are not one of ours: told by their length alone.
            let candidates = fixed.get(name.len()).map_or(&[][..], Vec::as_slice);
            if let Some(n) = candidates.iter().find(|n| n.as_bytes() == name) {
                if !found.iter().any(|(f, _)| f == n) {
                    found.push((n, entry.value()));
                }
            }
        }
        // The names the two lists add (their values decoded as `process.env` does).
        let lists: Vec<_> = ["TCB_CONTEXT_KEYS", "WX_CONTEXT_KEYS"]
            .into_iter()
            .filter_map(|list| found.iter().find(|(n, _)| *n == list))
            .map(|(_, v)| String::from_utf8_lossy(v))
            .collect();
        let mut listed: Vec<&str> = Vec::new();
        for name in lists.iter().flat_map(|l| l.split(',')).map(js_trim) {
            let is_fixed = fixed.get(name.len()).is_some_and(|f| f.contains(&name));
            if !name.is_empty() && !is_fixed && !listed.contains(&name) {
                listed.push(name);
            }
        }
        if !listed.is_empty() {
            let mut values: Vec<Option<&[u8]>> = vec![None; listed.len()];
            for entry in entries {
                let name = entry.name();
                if let Some(i) = listed.iter().position(|n| n.as_bytes() == name) {
                    values[i].get_or_insert_with(|| entry.value());
                }
            }
            found.extend(
                listed
                    .iter()
                    .zip(values)
                    .filter_map(|(n, v)| Some((*n, v?))),
            );
        }
        // A value that is not UTF-8 is kept as `process.env` decodes it.
        let same = |kept: &str, v: &[u8]| {
            kept.as_bytes() == v
                || (std::str::from_utf8(v).is_err() && String::from_utf8_lossy(v) == kept)
        };
        let unchanged = kept.is_some_and(|kept| {
            kept.vars.len() == found.len()
                && found
                    .iter()
                    .all(|(n, v)| kept.get(n).is_some_and(|k| same(k, v)))
        });
        if unchanged {
            return None;
        }
        let mut ctx = Context::default();
        for (name, value) in found {
            ctx.set(name, String::from_utf8_lossy(value).into_owned());
        }
        Some(ctx)
    }

    /// Set `name` (a later value replaces an earlier one).
    fn set(&mut self, name: &str, value: String) {
        match self.vars.binary_search_by(|(k, _)| by_name(k, name)) {
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
            .binary_search_by(|(k, _)| by_name(k, name))
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

/// [`CONTEXT_VARS`] and [`OTHER_VARS`] by length: those of `n` bytes at `n`.
fn fixed_names() -> &'static [Vec<&'static str>] {
    static BY_LENGTH: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    BY_LENGTH.get_or_init(|| {
        let mut by_length: Vec<Vec<&'static str>> = Vec::new();
        for name in CONTEXT_VARS.iter().chain(OTHER_VARS) {
            if by_length.len() <= name.len() {
                by_length.resize(name.len() + 1, Vec::new());
            }
            if !by_length[name.len()].contains(name) {
                by_length[name.len()].push(name);
            }
        }
        by_length
    })
}

/// The process's environment block, read without copying it.
mod environ {
    use std::ffi::{c_char, CStr};

    /// Each `NAME=value` entry, in order; `None` where the block is not
    /// read directly (then [`super::ProcessEnv`] is).
    ///
    /// # Safety
    /// No thread may change the environment while the entries are used.
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    pub(super) unsafe fn entries() -> Option<Entries> {
        #[cfg(target_os = "linux")]
        let block = {
            extern "C" {
                static environ: *const *const c_char;
            }
            environ
        };
        #[cfg(target_os = "macos")]
        let block = {
            extern "C" {
                fn _NSGetEnviron() -> *const *const *const c_char;
            }
            *_NSGetEnviron()
        };
        Some(Entries(block))
    }

    /// See the other `entries`.
    ///
    /// # Safety
    /// None needed: nothing is read.
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    pub(super) unsafe fn entries() -> Option<Entries> {
        None
    }

    /// An iterator over the variables of an environment block (its
    /// entries with a `=`: `getenv` never matches one without).
    #[derive(Clone)]
    pub(super) struct Entries(*const *const c_char);

    /// One `NAME=value` entry, its name found and its value not yet measured.
    pub(super) struct Entry {
        name: &'static [u8],
        value: *const c_char,
    }

    impl Entry {
        pub(super) fn name(&self) -> &'static [u8] {
            self.name
        }

        pub(super) fn value(&self) -> &'static [u8] {
            // SAFETY: the rest of the entry, null-terminated, unchanged
            // while the entries are used (the contract of `entries`).
            unsafe { CStr::from_ptr(self.value).to_bytes() }
        }
    }

    impl Iterator for Entries {
        type Item = Entry;

        fn next(&mut self) -> Option<Entry> {
            // SAFETY: the block is a null-terminated array of
            // null-terminated strings (or a null pointer), unchanged while
            // the entries are used (the contract of `entries`). The name is
            // read up to its `=`, or to the end of an entry without one.
            unsafe {
                loop {
                    if self.0.is_null() || (*self.0).is_null() {
                        return None;
                    }
                    let entry = (*self.0).cast::<u8>();
                    self.0 = self.0.add(1);
                    let mut at = 0;
                    while *entry.add(at) != b'=' && *entry.add(at) != 0 {
                        at += 1;
                    }
                    if *entry.add(at) == b'=' {
                        return Some(Entry {
                            name: std::slice::from_raw_parts(entry, at),
                            value: entry.add(at + 1).cast(),
                        });
                    }
                }
            }
        }
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

    /// The variables of the child run of `from_environ_in_a_child`: listed
    /// names with spaces (and a BOM, which JavaScript's `trim` removes),
    /// listed twice, listed but unset, a fixed name listed; a value that is
    /// not UTF-8; an empty value; an unrelated variable.
    #[cfg(unix)]
    fn child_environment() -> Vec<(&'static str, std::ffi::OsString)> {
        use std::os::unix::ffi::OsStringExt;
        vec![
            (
                "TCB_CONTEXT_KEYS",
                " CUSTOM_X ,,\u{feff}WX_ONLY, TCB_ENV ,MISSING".into(),
            ),
            ("WX_CONTEXT_KEYS", "CUSTOM_X,NOT_UTF8".into()),
            ("TCB_ENV", "e1".into()),
            ("CUSTOM_X", "x".into()),
            ("WX_ONLY", "w".into()),
            ("NOT_UTF8", std::ffi::OsString::from_vec(vec![b'f', 0xff])),
            ("DEBUG", "".into()),
            ("UNRELATED", "u".into()),
        ]
    }

    #[test]
    #[cfg(unix)]
    fn from_environ_reads_as_getenv_does() {
        // A child run of this test binary with only these variables (the
        // test process's own environment is left alone).
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "env::tests::from_environ_in_a_child",
                "--ignored",
            ])
            .env_clear()
            .envs(child_environment())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    #[test]
    #[cfg(unix)]
    #[ignore = "the child half of from_environ_reads_as_getenv_does, which runs it with its own environment"]
    fn from_environ_in_a_child() {
        let read = Context::from_environ(None).expect("a first read is a snapshot");
        // What asking getenv name by name gives.
        assert_eq!(read, Context::snapshot(&ProcessEnv));
        let expected = Context::from_pairs([
            (
                "TCB_CONTEXT_KEYS",
                " CUSTOM_X ,,\u{feff}WX_ONLY, TCB_ENV ,MISSING",
            ),
            ("WX_CONTEXT_KEYS", "CUSTOM_X,NOT_UTF8"),
            ("TCB_ENV", "e1"),
            ("CUSTOM_X", "x"),
            ("WX_ONLY", "w"),
            ("NOT_UTF8", "f\u{fffd}"),
            ("DEBUG", ""),
        ]);
        assert_eq!(read, expected);
        // The same variables: nothing new.
        assert_eq!(Context::from_environ(Some(&read)), None);
        // A kept snapshot with one value changed, one variable more or one
        // less is not the same.
        let mut changed = read.clone();
        changed.set("TCB_ENV", "e2".to_string());
        let mut more = read.clone();
        more.set("MISSING", "m".to_string());
        let fewer = Context::from_pairs(read.vars.iter().skip(1).cloned());
        for kept in [changed, more, fewer] {
            assert_eq!(Context::from_environ(Some(&kept)), Some(read.clone()));
        }
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
