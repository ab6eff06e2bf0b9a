//! The emulator's one state, shared by the gateway and the HTTPS door:
//! environments, tokens and counters, with an optional durable file.
//!
//! Durability: with a data file, an environment is written to disk (temp
//! file, fsync, rename, fsync of the directory) before [`State::create_environment`]
//! returns. Concurrent creations are grouped: one writer task takes every
//! creation waiting at that moment and writes them with one snapshot, so N
//! concurrent creations cost far fewer than N fsyncs, and none is answered
//! before it is on disk.
//!
//! All time-dependent methods take `now_ms` (Unix milliseconds) so the logic
//! can be tested without waiting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::cloud::sign::constant_time_eq;

/// One created environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRecord {
    /// The environment id, `{alias}-{6 random [a-z0-9]}`.
    pub env: String,
    pub alias: String,
    /// Creation time, Unix seconds.
    pub create_time: i64,
    /// Always `NORMAL` in the emulator.
    pub status: String,
    /// Which door created it: `gateway` or `https`.
    #[serde(default)]
    pub created_via: String,
    /// The account it belongs to: the appid whose (or whose authorizer)
    /// access token made the call, or the `appid` a cloud call named;
    /// empty for a cloud call in the function's own account.
    #[serde(default)]
    pub account: String,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `/cgi-bin/token`.
    Classic,
    /// `/cgi-bin/stable_token`.
    Stable,
    /// `component_access_token`.
    Component,
    /// `authorizer_access_token`.
    Authorizer,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::Classic => "classic",
            TokenKind::Stable => "stable",
            TokenKind::Component => "component",
            TokenKind::Authorizer => "authorizer",
        }
    }
}

#[derive(Debug, Clone)]
struct TokenInfo {
    kind: TokenKind,
    /// The appid (or component appid) the token belongs to.
    appid: String,
    expires_at_ms: u64,
    /// Replaced by a newer token: once past `expires_at_ms` it is reported
    /// as invalid (40001) rather than expired (42001).
    superseded: bool,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// 40014: never issued (or of a kind not accepted here).
    Unknown,
    /// 42001: past its lifetime.
    Expired,
    /// 40001: replaced by a newer token and past the grace period.
    Superseded,
}

/// An issued token and its remaining lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

#[derive(Default)]
struct Inner {
    envs: Vec<EnvironmentRecord>,
    /// Ids taken, including creations not yet durable.
    env_ids: HashSet<String>,
    tokens: HashMap<String, TokenInfo>,
    /// appid → current stable token.
    stable: HashMap<String, String>,
    /// appid → latest classic token.
    classic: HashMap<String, String>,
    /// authorizer appid → current refresh token.
    refresh_tokens: HashMap<String, String>,
    /// authorizer appid → current authorizer token.
    authorizer_current: HashMap<String, String>,
    /// `api_authorizer_token` rotates refresh tokens (option `rotateRefreshTokens`).
    rotate_refresh_tokens: bool,
    counters: BTreeMap<String, u64>,
    tokens_issued: BTreeMap<&'static str, u64>,
    durable_writes: u64,
    faults_fired: u64,
}

type Waiter = oneshot::Sender<Result<(), String>>;

/// The shared state. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct State {
    inner: Arc<Mutex<Inner>>,
    writer: Option<mpsc::UnboundedSender<(EnvironmentRecord, Waiter)>>,
    token_lifetime_secs: u64,
    grace_secs: u64,
}

/// The durable file's format.
#[derive(Serialize, Deserialize)]
struct DataFile {
    version: u32,
    environments: Vec<EnvironmentRecord>,
}

/// The alphabet of random id suffixes.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
        .collect()
}

/// Current Unix time in milliseconds (the core's clock).
pub use crate::cloud::now_ms;

/// Current Unix time in seconds.
pub fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// Read the environments of a data file; a missing file is an empty list.
pub fn load_file(path: &Path) -> Result<Vec<EnvironmentRecord>, String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let data: DataFile = serde_json::from_slice(&bytes)
                .map_err(|e| format!("data file {} is not valid: {e}", path.display()))?;
            Ok(data.environments)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read data file {}: {e}", path.display())),
    }
}

/// The directory of `path` and the name prefix of its temp files.
fn temp_location(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "emulator-data.json".to_string());
    (dir, format!(".{file_name}.tmp-"))
}

/// Remove temp files a killed emulator left next to `path` (best effort).
fn remove_stale_temp_files(path: &Path) {
    let (dir, prefix) = temp_location(path);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Write the whole list durably: temp file, fsync, rename, fsync the directory.
pub fn write_file(path: &Path, envs: &[EnvironmentRecord]) -> std::io::Result<()> {
    let data = DataFile {
        version: 1,
        environments: envs.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&data).map_err(std::io::Error::other)?;
    let (dir, tmp_prefix) = temp_location(path);
    let tmp = dir.join(format!(
        "{tmp_prefix}{}-{}",
        std::process::id(),
        random_string(ID_ALPHABET, 8)
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable. Directories cannot be opened on Windows.
    #[cfg(unix)]
    {
        std::fs::File::open(&dir)?.sync_all()?;
    }
    Ok(())
}

impl State {
    /// A state without a data file.
    pub fn new(token_lifetime_secs: u64, grace_secs: u64) -> State {
        State {
            inner: Arc::new(Mutex::new(Inner::default())),
            writer: None,
            token_lifetime_secs,
            grace_secs,
        }
    }

    /// A state backed by `path`: loads it, and starts the writer task (needs
    /// a Tokio runtime).
    pub fn with_file(
        path: PathBuf,
        token_lifetime_secs: u64,
        grace_secs: u64,
    ) -> Result<State, String> {
        let envs = load_file(&path)?;
        remove_stale_temp_files(&path);
        // Fail early when the file cannot be written.
        write_file(&path, &envs)
            .map_err(|e| format!("cannot write data file {}: {e}", path.display()))?;
        let mut inner = Inner::default();
        for e in &envs {
            inner.env_ids.insert(e.env.clone());
        }
        inner.envs = envs.clone();
        let inner = Arc::new(Mutex::new(inner));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer_task(path, envs, rx, inner.clone()));
        Ok(State {
            inner,
            writer: Some(tx),
            token_lifetime_secs,
            grace_secs,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters to an emulator; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count one call of `endpoint` (e.g. `gateway:tcb.createenvandresource`).
    pub fn count(&self, endpoint: &str) {
        *self
            .lock()
            .counters
            .entry(endpoint.to_string())
            .or_insert(0) += 1;
    }

    /// Count one fault that fired.
    pub fn count_fault(&self) {
        self.lock().faults_fired += 1;
    }

    /// Every environment whose creation has been answered (or is durable).
    pub fn environments(&self) -> Vec<EnvironmentRecord> {
        self.lock().envs.clone()
    }

    /// Calls per endpoint, tokens issued, environments, durable writes.
    pub fn stats(&self) -> serde_json::Value {
        let g = self.lock();
        let calls: serde_json::Map<String, serde_json::Value> = g
            .counters
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
            .collect();
        let issued: serde_json::Map<String, serde_json::Value> = g
            .tokens_issued
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        serde_json::json!({
            "calls": calls,
            "tokensIssued": issued,
            "environments": g.envs.len(),
            "durableWrites": g.durable_writes,
            "faultsFired": g.faults_fired,
        })
    }

    /// Create an environment named after `alias`; returns once it is durable.
    pub async fn create_environment(
        &self,
        alias: &str,
        created_via: &str,
        account: &str,
    ) -> Result<EnvironmentRecord, String> {
        let record = {
            let mut g = self.lock();
            let mut env = format!("{alias}-{}", random_string(ID_ALPHABET, 6));
            while g.env_ids.contains(&env) {
                env = format!("{alias}-{}", random_string(ID_ALPHABET, 6));
            }
            g.env_ids.insert(env.clone());
            EnvironmentRecord {
                env,
                alias: alias.to_string(),
                create_time: now_secs(),
                status: "NORMAL".to_string(),
                created_via: created_via.to_string(),
                account: account.to_string(),
            }
        };
        match &self.writer {
            None => {
                self.lock().envs.push(record.clone());
                Ok(record)
            }
            Some(tx) => {
                let (done_tx, done_rx) = oneshot::channel();
                let failed = |this: &State, e: String| {
                    this.lock().env_ids.remove(&record.env);
                    Err(e)
                };
                if tx.send((record.clone(), done_tx)).is_err() {
                    return failed(self, "emulator is closing".to_string());
                }
                match done_rx.await {
                    Ok(Ok(())) => Ok(record),
                    Ok(Err(e)) => failed(self, e),
                    Err(_) => failed(self, "emulator is closing".to_string()),
                }
            }
        }
    }

    /// Does `env` name a created environment (or one being made durable)?
    pub fn has_environment(&self, env: &str) -> bool {
        self.lock().env_ids.contains(env)
    }

    fn issue(&self, g: &mut Inner, kind: TokenKind, appid: &str, now_ms: u64) -> IssuedToken {
        let token = format!(
            "{}_{}",
            &kind.name()[..2].to_ascii_uppercase(),
            random_string(TOKEN_ALPHABET, 64)
        );
        g.tokens.insert(
            token.clone(),
            TokenInfo {
                kind,
                appid: appid.to_string(),
                expires_at_ms: now_ms.saturating_add(self.token_lifetime_secs.saturating_mul(1000)),
                superseded: false,
            },
        );
        *g.tokens_issued.entry(kind.name()).or_insert(0) += 1;
        if g.tokens.len() > 100_000 {
            g.tokens.retain(|_, t| t.expires_at_ms > now_ms);
        }
        IssuedToken {
            token,
            expires_in: self.token_lifetime_secs,
        }
    }

    fn supersede(&self, g: &mut Inner, token: &str, now_ms: u64) {
        let grace_end = now_ms.saturating_add(self.grace_secs.saturating_mul(1000));
        if let Some(t) = g.tokens.get_mut(token) {
            t.superseded = true;
            t.expires_at_ms = t.expires_at_ms.min(grace_end);
        }
    }

    /// `/cgi-bin/token`: a new token each call; the previous one stays valid
    /// for the grace period.
    pub fn issue_classic(&self, appid: &str, now_ms: u64) -> IssuedToken {
        let mut g = self.lock();
        if let Some(old) = g.classic.get(appid).cloned() {
            self.supersede(&mut g, &old, now_ms);
        }
        let t = self.issue(&mut g, TokenKind::Classic, appid, now_ms);
        g.classic.insert(appid.to_string(), t.token.clone());
        t
    }

    /// `/cgi-bin/stable_token`: the same token while it is valid, a new one
    /// when expired or on `force_refresh` (the old one then stays valid for
    /// the grace period).
    pub fn issue_stable(&self, appid: &str, force_refresh: bool, now_ms: u64) -> IssuedToken {
        let mut g = self.lock();
        if let Some(cur) = g.stable.get(appid).cloned() {
            if let Some(info) = g.tokens.get(&cur) {
                if !force_refresh && info.expires_at_ms > now_ms {
                    let expires_in = (info.expires_at_ms - now_ms).div_ceil(1000);
                    return IssuedToken {
                        token: cur,
                        expires_in,
                    };
                }
            }
            self.supersede(&mut g, &cur, now_ms);
        }
        let t = self.issue(&mut g, TokenKind::Stable, appid, now_ms);
        g.stable.insert(appid.to_string(), t.token.clone());
        t
    }

    /// `component_access_token`: a new one each call (old ones stay valid
    /// until they expire, as WeChat does).
    pub fn issue_component(&self, component_appid: &str, now_ms: u64) -> IssuedToken {
        let mut g = self.lock();
        self.issue(&mut g, TokenKind::Component, component_appid, now_ms)
    }

    /// Whether `api_authorizer_token` rotates refresh tokens.
    pub fn set_rotate_refresh_tokens(&self, on: bool) {
        self.lock().rotate_refresh_tokens = on;
    }

    /// Register an authorizer and its first refresh token (at start).
    pub fn add_authorizer(&self, authorizer_appid: &str, refresh_token: &str) {
        self.lock()
            .refresh_tokens
            .insert(authorizer_appid.to_string(), refresh_token.to_string());
    }

    /// `api_authorizer_token`: checks the refresh token, rotates it (with
    /// `rotateRefreshTokens`), issues an authorizer token. `Err(61003)`
    /// unknown authorizer, `Err(61023)` refresh token not current.
    pub fn issue_authorizer(
        &self,
        authorizer_appid: &str,
        refresh_token: &str,
        now_ms: u64,
    ) -> Result<(IssuedToken, String), i64> {
        let mut g = self.lock();
        let current = g
            .refresh_tokens
            .get(authorizer_appid)
            .cloned()
            .ok_or(61003)?;
        if !constant_time_eq(current.as_bytes(), refresh_token.as_bytes()) {
            return Err(61023);
        }
        let new_refresh = if g.rotate_refresh_tokens {
            let new = format!("refreshtoken@@@{}", random_string(TOKEN_ALPHABET, 40));
            g.refresh_tokens
                .insert(authorizer_appid.to_string(), new.clone());
            new
        } else {
            current
        };
        if let Some(old) = g.authorizer_current.get(authorizer_appid).cloned() {
            self.supersede(&mut g, &old, now_ms);
        }
        let t = self.issue(&mut g, TokenKind::Authorizer, authorizer_appid, now_ms);
        g.authorizer_current
            .insert(authorizer_appid.to_string(), t.token.clone());
        Ok((t, new_refresh))
    }

    /// Check a token against the kinds accepted by the caller.
    /// Returns the appid it belongs to.
    pub fn check_token(
        &self,
        token: &str,
        accepted: &[TokenKind],
        now_ms: u64,
    ) -> Result<String, TokenError> {
        let g = self.lock();
        let info = g.tokens.get(token).ok_or(TokenError::Unknown)?;
        if !accepted.contains(&info.kind) {
            return Err(TokenError::Unknown);
        }
        if info.expires_at_ms <= now_ms {
            return Err(if info.superseded {
                TokenError::Superseded
            } else {
                TokenError::Expired
            });
        }
        Ok(info.appid.clone())
    }
}

/// Group commit: take every waiting creation, write one snapshot, answer all.
async fn writer_task(
    path: PathBuf,
    mut durable: Vec<EnvironmentRecord>,
    mut rx: mpsc::UnboundedReceiver<(EnvironmentRecord, Waiter)>,
    inner: Arc<Mutex<Inner>>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut snapshot = durable.clone();
        snapshot.extend(batch.iter().map(|(r, _)| r.clone()));
        let p = path.clone();
        let result = tokio::task::spawn_blocking(move || {
            let r = write_file(&p, &snapshot);
            (r, snapshot)
        })
        .await;
        match result {
            Ok((Ok(()), snapshot)) => {
                durable = snapshot;
                {
                    let mut g = inner.lock().unwrap_or_else(|p| p.into_inner());
                    g.durable_writes += 1;
                    g.envs.extend(batch.iter().map(|(r, _)| r.clone()));
                }
                for (_, w) in batch {
                    let _ = w.send(Ok(()));
                }
            }
            Ok((Err(e), _)) => {
                let msg = format!("cannot write data file: {e}");
                for (_, w) in batch {
                    let _ = w.send(Err(msg.clone()));
                }
            }
            Err(e) => {
                let msg = format!("data file writer failed: {e}");
                for (_, w) in batch {
                    let _ = w.send(Err(msg.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "wx-emu-state-{}-{}-{name}.json",
            std::process::id(),
            fastrand::u64(..)
        ))
    }

    #[tokio::test]
    async fn creates_ids_from_alias() {
        let s = State::new(7200, 300);
        let r = s
            .create_environment("test-env", "https", "wxtest")
            .await
            .unwrap();
        assert!(r.env.starts_with("test-env-"));
        let suffix = &r.env["test-env-".len()..];
        assert_eq!(suffix.len(), 6);
        assert!(suffix.bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_eq!(s.environments(), vec![r]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn durable_before_answer_and_reloaded() {
        let path = tmp_path("durable");
        let s = State::with_file(path.clone(), 7200, 300).unwrap();
        let mut handles = Vec::new();
        for i in 0..40 {
            let s = s.clone();
            let p = path.clone();
            handles.push(tokio::spawn(async move {
                let r = s
                    .create_environment(&format!("a{i}"), "gateway", "")
                    .await
                    .unwrap();
                // Answered: it must already be in the file.
                assert!(load_file(&p).unwrap().contains(&r));
                r
            }));
        }
        let mut created = Vec::new();
        for h in handles {
            created.push(h.await.unwrap());
        }
        let on_disk = load_file(&path).unwrap();
        for r in &created {
            assert!(on_disk.contains(r), "{} not durable", r.env);
        }
        // Grouped: fewer writes than creations is allowed, never more.
        let writes = s.stats()["durableWrites"].as_u64().unwrap();
        assert!((1..=40).contains(&writes));
        drop(s);
        let s2 = State::with_file(path.clone(), 7200, 300).unwrap();
        assert_eq!(s2.environments().len(), 40);
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn stale_temp_files_are_removed_at_start() {
        let path = tmp_path("stale");
        let (dir, prefix) = temp_location(&path);
        let stale = dir.join(format!("{prefix}999-abcdefgh"));
        std::fs::write(&stale, b"half a write").unwrap();
        let _s = State::with_file(path.clone(), 7200, 300).unwrap();
        assert!(!stale.exists());
        assert!(load_file(&path).unwrap().is_empty());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn invalid_data_file_is_an_error() {
        let path = tmp_path("bad");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load_file(&path).is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn stable_token_is_shared_until_forced() {
        let s = State::new(100, 10);
        let a = s.issue_stable("app", false, 1_000);
        let b = s.issue_stable("app", false, 51_000);
        assert_eq!(a.token, b.token);
        assert_eq!(b.expires_in, 50);
        let c = s.issue_stable("app", true, 52_000);
        assert_ne!(a.token, c.token);
        // Old one valid during the grace period, then superseded.
        assert!(s
            .check_token(&a.token, &[TokenKind::Stable], 61_000)
            .is_ok());
        assert_eq!(
            s.check_token(&a.token, &[TokenKind::Stable], 62_000),
            Err(TokenError::Superseded)
        );
        assert_eq!(
            s.check_token(&c.token, &[TokenKind::Stable], 152_000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            s.check_token("nope", &[TokenKind::Stable], 0),
            Err(TokenError::Unknown)
        );
        // A stable token is not a component token.
        assert_eq!(
            s.check_token(&c.token, &[TokenKind::Component], 53_000),
            Err(TokenError::Unknown)
        );
    }

    #[test]
    fn classic_token_rotates_with_grace() {
        let s = State::new(7200, 5);
        let a = s.issue_classic("app", 0);
        let b = s.issue_classic("app", 1_000);
        assert_ne!(a.token, b.token);
        assert!(s
            .check_token(&a.token, &[TokenKind::Classic], 5_999)
            .is_ok());
        assert_eq!(
            s.check_token(&a.token, &[TokenKind::Classic], 6_000),
            Err(TokenError::Superseded)
        );
        assert!(s
            .check_token(&b.token, &[TokenKind::Classic], 6_000)
            .is_ok());
    }

    #[test]
    fn authorizer_refresh_token_rotates() {
        let s = State::new(7200, 5);
        s.add_authorizer("wxauth", "r0");
        // by default the refresh token stays the same
        let (_, same) = s.issue_authorizer("wxauth", "r0", 0).unwrap();
        assert_eq!(same, "r0");
        s.set_rotate_refresh_tokens(true);
        assert_eq!(s.issue_authorizer("wxother", "r0", 0).unwrap_err(), 61003);
        let (_, r1) = s.issue_authorizer("wxauth", "r0", 0).unwrap();
        assert_ne!(r1, "r0");
        assert_eq!(s.issue_authorizer("wxauth", "r0", 0).unwrap_err(), 61023);
        assert!(s.issue_authorizer("wxauth", &r1, 0).is_ok());
        let stats = s.stats();
        assert_eq!(stats["tokensIssued"]["authorizer"], 3);
    }
}
