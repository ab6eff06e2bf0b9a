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
//! The data file belongs to one emulator at a time: [`State::with_file`]
//! takes an exclusive lock (`.{name}.lock` next to the file, left in place)
//! and a second emulator on the same file refuses to start. A symlink is
//! written through (its target is replaced, the link stays), the file keeps
//! its permissions, and a file of another `version` is refused, never
//! rewritten; fields this version does not know are kept.
//!
//! All time-dependent methods take `now_ms` (Unix milliseconds) so the logic
//! can be tested without waiting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use wx_cloud_core::wire::lock;

use subtle::ConstantTimeEq;

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
    /// authorization code → (authorizer appid, expiry in Unix ms).
    auth_codes: HashMap<String, (String, u64)>,
    /// verify tickets pushed → when they stop being accepted (Unix ms).
    pushed_tickets: HashMap<String, u64>,
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
    /// The data file's lock, held until [`State::release_file`] or the
    /// last clone is dropped.
    file_lock: Arc<Mutex<Option<File>>>,
    token_lifetime_secs: u64,
    grace_secs: u64,
}

/// The data file version this emulator reads and writes.
pub const DATA_FILE_VERSION: u64 = 1;

/// A data file as read: its top-level object (`version` and any fields
/// this version does not know, in their order) and each environment as
/// read (with its unknown fields), so a rewrite keeps them.
#[derive(Clone, Default)]
pub struct DataFile {
    top: Map<String, Value>,
    environments: Vec<Value>,
}

impl DataFile {
    fn new() -> DataFile {
        let mut top = Map::new();
        top.insert("version".into(), Value::from(DATA_FILE_VERSION));
        top.insert("environments".into(), Value::Array(Vec::new()));
        DataFile {
            top,
            environments: Vec::new(),
        }
    }

    fn to_bytes(&self) -> serde_json::Result<Vec<u8>> {
        let mut top = self.top.clone();
        top.insert(
            "environments".into(),
            Value::Array(self.environments.clone()),
        );
        serde_json::to_vec_pretty(&Value::Object(top))
    }
}

/// The alphabet of random id suffixes.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
        .collect()
}

/// A random token of `len` characters from `[A-Za-z0-9_]`.
pub fn random_token(len: usize) -> String {
    random_string(TOKEN_ALPHABET, len)
}

/// Current Unix time in milliseconds (the core's clock).
pub use crate::wire::gateway::now_ms;

/// Current Unix time in seconds.
pub fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// The most of a data file that is read (its environments take a few hundred
/// bytes each).
const MAX_DATA_FILE_BYTES: u64 = 64 << 20;

/// Read the environments of a data file; a missing file is an empty list.
pub fn load_file(path: &Path) -> Result<Vec<EnvironmentRecord>, String> {
    read_file(path).map(|(_, envs)| envs)
}

/// Read a data file (a missing one is empty): its contents as read, and
/// its environments. A file of another `version` is an error.
fn read_file(path: &Path) -> Result<(DataFile, Vec<EnvironmentRecord>), String> {
    let cannot = |e: std::io::Error| format!("cannot read data file {}: {e}", path.display());
    // Only a regular file: opening a FIFO would wait for a writer forever, a
    // device could be read without end.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(format!(
                "data file {} is not a regular file (a directory, a FIFO or a device): give the path of a JSON file",
                path.display()
            ))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((DataFile::new(), Vec::new()))
        }
        Err(e) => return Err(cannot(e)),
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_DATA_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_DATA_FILE_BYTES {
        return Err(format!(
            "data file {} is larger than {MAX_DATA_FILE_BYTES} bytes: not one this emulator wrote",
            path.display()
        ));
    }
    let invalid = |why: String| format!("data file {} is not valid: {why}", path.display());
    let top = match serde_json::from_slice::<Value>(&bytes).map_err(|e| invalid(e.to_string()))? {
        Value::Object(top) => top,
        _ => return Err(invalid("not a JSON object".into())),
    };
    match top.get("version") {
        Some(v) if v.as_u64() == Some(DATA_FILE_VERSION) => {}
        Some(v) => {
            let path = path.display();
            return Err(format!(
                "data file {path} has version {v}; this emulator reads version \
                 {DATA_FILE_VERSION} only and will not rewrite it (use a newer emulator \
                 or another dataFile)"
            ));
        }
        None => return Err(invalid("no `version`".into())),
    }
    let environments = match top.get("environments") {
        Some(Value::Array(items)) => items.clone(),
        _ => return Err(invalid("`environments` is not an array".into())),
    };
    let records = environments
        .iter()
        .map(|v| serde_json::from_value::<EnvironmentRecord>(v.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("an environment: {e}")))?;
    Ok((DataFile { top, environments }, records))
}

/// Where `path` leads: the final target of a chain of symlinks (which need
/// not exist yet), else `path` itself.
fn resolve_links(path: &Path) -> Result<PathBuf, String> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)
                    .map_err(|e| format!("cannot read the link {}: {e}", current.display()))?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(format!(
        "data file {}: too many levels of symbolic links",
        path.display()
    ))
}

/// Take the data file's exclusive lock (`.{name}.lock` next to it).
fn lock_data_file(path: &Path, shown: &Path) -> Result<File, String> {
    let (dir, _) = temp_location(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lock_path = dir.join(format!(".{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot create the lock file {}: {e}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "data file {} is in use by another emulator (it holds {}); stop that emulator or \
             give this one another dataFile",
            shown.display(),
            lock_path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!(
            "cannot lock the data file {} ({}): {e}",
            shown.display(),
            lock_path.display()
        )),
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

/// Write the whole list durably: temp file, fsync, rename, fsync the
/// directory. The temp file gets the permissions of the file it replaces
/// (before any byte is written), so a 0600 file stays 0600. `path` is the
/// file itself, not a symlink (see `resolve_links`).
pub fn write_file(path: &Path, data: &DataFile) -> std::io::Result<()> {
    let bytes = data.to_bytes().map_err(std::io::Error::other)?;
    let (dir, tmp_prefix) = temp_location(path);
    let tmp = dir.join(format!(
        "{tmp_prefix}{}-{}",
        std::process::id(),
        random_string(ID_ALPHABET, 8)
    ));
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if permissions.is_some() {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        if let Some(p) = &permissions {
            f.set_permissions(p.clone())?;
        }
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
        File::open(&dir)?.sync_all()?;
    }
    Ok(())
}

impl State {
    /// A state without a data file.
    pub fn new(token_lifetime_secs: u64, grace_secs: u64) -> State {
        State {
            inner: Arc::new(Mutex::new(Inner::default())),
            writer: None,
            file_lock: Arc::new(Mutex::new(None)),
            token_lifetime_secs,
            grace_secs,
        }
    }

    /// A state backed by `path`: locks it (see the module's text), loads
    /// it, and starts the writer task (needs a Tokio runtime).
    pub fn with_file(
        path: PathBuf,
        token_lifetime_secs: u64,
        grace_secs: u64,
    ) -> Result<State, String> {
        let shown = path;
        let path = resolve_links(&shown)?;
        let lock = lock_data_file(&path, &shown)?;
        let (data, envs) = read_file(&path)?;
        remove_stale_temp_files(&path);
        // Fail early when the file cannot be written.
        write_file(&path, &data)
            .map_err(|e| format!("cannot write data file {}: {e}", shown.display()))?;
        let mut inner = Inner::default();
        for e in &envs {
            inner.env_ids.insert(e.env.clone());
        }
        inner.envs = envs;
        let inner = Arc::new(Mutex::new(inner));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer_task(path, data, rx, inner.clone()));
        Ok(State {
            inner,
            writer: Some(tx),
            file_lock: Arc::new(Mutex::new(Some(lock))),
            token_lifetime_secs,
            grace_secs,
        })
    }

    /// With `true`, every `api_authorizer_token` replaces the authorizer
    /// refresh token and refuses the old one (61023); with `false` (the
    /// default, WeChat's documented behaviour) it stays the same until the
    /// authorizer is authorized again.
    pub fn rotating_refresh_tokens(self, on: bool) -> State {
        self.set_rotate_refresh_tokens(on);
        self
    }

    /// Let another emulator have the data file (when this one is closed and
    /// no creation is in flight).
    pub fn release_file(&self) {
        let lock = lock(&self.file_lock).take();
        drop(lock);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters to an emulator; keep serving.
        lock(&self.inner)
    }

    /// Count one call of `endpoint` (e.g. `gateway:tcb.createenvandresource`).
    pub fn count(&self, endpoint: &str) {
        let mut g = self.lock();
        // The name is copied only the first time it is counted.
        match g.counters.get_mut(endpoint) {
            Some(n) => *n += 1,
            None => {
                g.counters.insert(endpoint.to_string(), 1);
            }
        }
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

    /// `api_authorizer_token`: checks the refresh token, issues an
    /// authorizer token, and answers the refresh token to use next: the same
    /// one, or a new one (the old one then refused) when rotating.
    /// `Err(61003)` unknown authorizer, `Err(61023)` refresh token not current.
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
        if !bool::from(current.as_bytes().ct_eq(refresh_token.as_bytes())) {
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

    /// Authorize `authorizer_appid` (again): a new refresh token replaces
    /// the old one, and an authorization code (valid `code_ttl_ms`) that
    /// [`State::query_auth`] exchanges once. Returns the code, its expiry
    /// (Unix seconds) and whether the account had authorized already
    /// (WeChat then sends `updateauthorized`).
    pub fn authorize(
        &self,
        authorizer_appid: &str,
        code_ttl_ms: u64,
        now_ms: u64,
    ) -> (String, u64, bool) {
        let mut g = self.lock();
        let again = g.refresh_tokens.contains_key(authorizer_appid);
        let refresh = format!("refreshtoken@@@{}", random_string(TOKEN_ALPHABET, 40));
        g.refresh_tokens
            .insert(authorizer_appid.to_string(), refresh);
        let code = format!("queryauthcode@@@{}", random_string(TOKEN_ALPHABET, 40));
        let expires = now_ms.saturating_add(code_ttl_ms);
        g.auth_codes
            .insert(code.clone(), (authorizer_appid.to_string(), expires));
        g.auth_codes.retain(|_, (_, e)| *e > now_ms);
        (code, expires / 1000, again)
    }

    /// The account takes back its authorization: its refresh token, its
    /// codes and its access tokens are refused from now on. Returns whether
    /// it was authorized.
    pub fn revoke(&self, authorizer_appid: &str) -> bool {
        let mut g = self.lock();
        let was = g.refresh_tokens.remove(authorizer_appid).is_some();
        g.authorizer_current.remove(authorizer_appid);
        g.auth_codes.retain(|_, (a, _)| a != authorizer_appid);
        for t in g.tokens.values_mut() {
            if t.kind == TokenKind::Authorizer && t.appid == authorizer_appid {
                t.superseded = true;
                t.expires_at_ms = 0;
            }
        }
        was
    }

    /// `api_query_auth`: exchange an authorization code (once) for an
    /// authorizer token and the account's refresh token. `Err(61009)` an
    /// unknown or used code, `Err(61010)` an expired one.
    pub fn query_auth(
        &self,
        code: &str,
        now_ms: u64,
    ) -> Result<(String, IssuedToken, String), i64> {
        let mut g = self.lock();
        let (appid, expires) = g.auth_codes.remove(code).ok_or(61009)?;
        if expires <= now_ms {
            return Err(61010);
        }
        let refresh = g.refresh_tokens.get(&appid).cloned().ok_or(61009)?;
        if let Some(old) = g.authorizer_current.get(&appid).cloned() {
            self.supersede(&mut g, &old, now_ms);
        }
        let t = self.issue(&mut g, TokenKind::Authorizer, &appid, now_ms);
        g.authorizer_current.insert(appid.clone(), t.token.clone());
        Ok((appid, t, refresh))
    }

    /// The accounts authorized now, sorted.
    pub fn authorizers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.lock().refresh_tokens.keys().cloned().collect();
        v.sort();
        v
    }

    /// A verify ticket was pushed: accepted until `valid_ms` from now.
    pub fn add_pushed_ticket(&self, ticket: &str, valid_ms: u64, now_ms: u64) {
        let mut g = self.lock();
        g.pushed_tickets.retain(|_, until| *until > now_ms);
        g.pushed_tickets
            .insert(ticket.to_string(), now_ms.saturating_add(valid_ms));
    }

    /// Was `ticket` pushed and is it still valid?
    pub fn pushed_ticket_valid(&self, ticket: &str, now_ms: u64) -> bool {
        self.lock()
            .pushed_tickets
            .get(ticket)
            .is_some_and(|until| *until > now_ms)
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
    mut durable: DataFile,
    mut rx: mpsc::UnboundedReceiver<(EnvironmentRecord, Waiter)>,
    inner: Arc<Mutex<Inner>>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut snapshot = durable.clone();
        snapshot.environments.extend(
            batch
                .iter()
                .map(|(r, _)| serde_json::to_value(r).unwrap_or(Value::Null)),
        );
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
                    let mut g = lock(&inner);
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

    /// A data file and its lock file (`.{name}.lock` beside it) removed:
    /// the tests leave nothing in the temporary folder.
    fn remove(path: &Path) {
        let _ = std::fs::remove_file(path);
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
            let _ = std::fs::remove_file(dir.join(format!(".{}.lock", name.to_string_lossy())));
        }
    }

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
            .create_environment("test-env", "https", "wxapp")
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
        remove(&path);
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
        remove(&path);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_second_state_on_the_same_file_refuses_to_start() {
        let path = tmp_path("locked");
        let first = State::with_file(path.clone(), 7200, 300).unwrap();
        let created = first.create_environment("kept", "https", "").await.unwrap();
        let err = State::with_file(path.clone(), 7200, 300).err().unwrap();
        assert!(err.contains("in use by another emulator"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        // The refused one touched nothing: the first one's environment is there.
        assert_eq!(load_file(&path).unwrap(), vec![created.clone()]);
        // Through a symlink, too: the lock is the target's.
        let link = tmp_path("locked-link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(State::with_file(link.clone(), 7200, 300).is_err());
        first.release_file();
        let second = State::with_file(link.clone(), 7200, 300).unwrap();
        assert_eq!(second.environments(), vec![created]);
        for p in [&path, &link] {
            remove(p);
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn symlinks_are_written_through_and_permissions_kept() {
        use std::os::unix::fs::PermissionsExt;
        let target = tmp_path("target");
        let link = tmp_path("link");
        std::fs::write(&target, br#"{"version":1,"environments":[]}"#).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let s = State::with_file(link.clone(), 7200, 300).unwrap();
        let r = s
            .create_environment("via-link", "gateway", "")
            .await
            .unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(load_file(&target).unwrap(), vec![r]);
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A dangling link: the target is created.
        let missing = tmp_path("missing-target");
        let dangling = tmp_path("dangling");
        std::os::unix::fs::symlink(&missing, &dangling).unwrap();
        let s2 = State::with_file(dangling.clone(), 7200, 300).unwrap();
        let r2 = s2
            .create_environment("dangling", "https", "")
            .await
            .unwrap();
        assert_eq!(load_file(&missing).unwrap(), vec![r2]);
        assert!(std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink());
        for p in [&target, &link, &missing, &dangling] {
            remove(p);
        }
    }

    #[tokio::test]
    async fn unknown_versions_are_refused_and_unknown_fields_kept() {
        let path = tmp_path("v2");
        let v2 = br#"{"version":2,"environments":[],"shards":[1]}"#;
        std::fs::write(&path, v2).unwrap();
        let err = State::with_file(path.clone(), 7200, 300).err().unwrap();
        assert!(err.contains("has version 2"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), v2);
        std::fs::write(&path, br#"{"environments":[]}"#).unwrap();
        assert!(State::with_file(path.clone(), 7200, 300).is_err());
        // Version 1 with fields this version does not know: kept on rewrite.
        std::fs::write(
            &path,
            br#"{"note":"keep","version":1,"environments":[{"env":"a-000000","alias":"a","create_time":1,"status":"NORMAL","created_via":"https","tag":[7]}]}"#,
        )
        .unwrap();
        let s = State::with_file(path.clone(), 7200, 300).unwrap();
        s.create_environment("b", "https", "").await.unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["note"], "keep");
        assert_eq!(v["version"], 1);
        assert_eq!(v["environments"][0]["tag"][0], 7);
        assert_eq!(v["environments"].as_array().unwrap().len(), 2);
        remove(&path);
    }

    #[test]
    fn invalid_data_file_is_an_error() {
        let path = tmp_path("bad");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load_file(&path).is_err());
        remove(&path);
    }

    #[test]
    #[cfg(unix)]
    fn a_fifo_or_a_directory_as_the_data_file_is_refused_at_once() {
        // Opening a FIFO for reading waits for a writer: refused before that
        // (issue 19 item 11), so this test ends instead of hanging.
        let fifo = tmp_path("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let e = load_file(&fifo).unwrap_err();
        assert!(e.contains("is not a regular file"), "{e}");
        let _ = std::fs::remove_file(&fifo);
        let dir = std::env::temp_dir();
        assert!(load_file(&dir)
            .unwrap_err()
            .contains("is not a regular file"));
    }

    #[test]
    fn a_data_file_larger_than_the_cap_is_refused() {
        let path = tmp_path("huge");
        let f = File::create(&path).unwrap();
        f.set_len(MAX_DATA_FILE_BYTES + 1).unwrap(); // sparse: no disk used
        let e = load_file(&path).unwrap_err();
        assert!(e.contains("is larger than"), "{e}");
        remove(&path);
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
    fn authorizer_refresh_token_stays_by_default() {
        let s = State::new(7200, 5);
        s.add_authorizer("wxauth", "r0");
        let (t1, r1) = s.issue_authorizer("wxauth", "r0", 0).unwrap();
        assert_eq!(r1, "r0");
        let (t2, r2) = s.issue_authorizer("wxauth", "r0", 1000).unwrap();
        assert_eq!(r2, "r0");
        assert_ne!(t1.token, t2.token);
        assert_eq!(s.issue_authorizer("wxauth", "r1", 0).unwrap_err(), 61023);
        // Authorized again: the new refresh token replaces the old one.
        s.add_authorizer("wxauth", "r9");
        assert_eq!(s.issue_authorizer("wxauth", "r0", 0).unwrap_err(), 61023);
        assert!(s.issue_authorizer("wxauth", "r9", 0).is_ok());
    }

    #[test]
    fn authorizer_refresh_token_rotates() {
        let s = State::new(7200, 5).rotating_refresh_tokens(true);
        s.add_authorizer("wxauth", "r0");
        assert_eq!(s.issue_authorizer("wxother", "r0", 0).unwrap_err(), 61003);
        let (_, r1) = s.issue_authorizer("wxauth", "r0", 0).unwrap();
        assert_ne!(r1, "r0");
        assert_eq!(s.issue_authorizer("wxauth", "r0", 0).unwrap_err(), 61023);
        assert!(s.issue_authorizer("wxauth", &r1, 0).is_ok());
        let stats = s.stats();
        assert_eq!(stats["tokensIssued"]["authorizer"], 2);
    }

    #[test]
    fn authorization_codes_are_exchanged_once_and_revoking_refuses_everything() {
        let s = State::new(7200, 5);
        let (code, expires, again) = s.authorize("wxa", 3_600_000, 10_000);
        assert!(!again);
        assert_eq!(expires, 3_610);
        let (appid, access, refresh) = s.query_auth(&code, 20_000).unwrap();
        assert_eq!(appid, "wxa");
        assert_eq!(s.query_auth(&code, 20_000).unwrap_err(), 61009);
        assert!(s
            .check_token(&access.token, &[TokenKind::Authorizer], 30_000)
            .is_ok());
        // The refresh token works with api_authorizer_token.
        let (_, r2) = s.issue_authorizer("wxa", &refresh, 30_000).unwrap();
        // Authorizing again: a new refresh token; the old one is refused.
        let (code2, _, again) = s.authorize("wxa", 1_000, 40_000);
        assert!(again);
        assert_eq!(s.issue_authorizer("wxa", &r2, 40_000).unwrap_err(), 61023);
        assert_eq!(s.query_auth(&code2, 41_000).unwrap_err(), 61010);
        let (code3, _, _) = s.authorize("wxa", 1_000, 50_000);
        let (_, live, r3) = s.query_auth(&code3, 50_000).unwrap();
        assert_eq!(s.authorizers(), vec!["wxa".to_string()]);
        assert!(s.revoke("wxa"));
        assert!(!s.revoke("wxa"));
        assert_eq!(s.issue_authorizer("wxa", &r3, 50_000).unwrap_err(), 61003);
        assert_eq!(
            s.check_token(&live.token, &[TokenKind::Authorizer], 50_000),
            Err(TokenError::Superseded)
        );
        assert!(s.authorizers().is_empty());
    }

    #[test]
    fn pushed_tickets_expire() {
        let s = State::new(7200, 5);
        s.add_pushed_ticket("ticket@@@1", 1_000, 0);
        assert!(s.pushed_ticket_valid("ticket@@@1", 999));
        assert!(!s.pushed_ticket_valid("ticket@@@1", 1_000));
        assert!(!s.pushed_ticket_valid("ticket@@@2", 0));
    }
}
