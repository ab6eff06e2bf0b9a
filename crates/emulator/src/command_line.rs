//! The emulator's command line, read once for its two front ends: the
//! `wx-cloud-emulator` binary (src/main.rs) and `npx wx-cloud-openapi
//! emulator` (cli.js, through the addon's `parseEmulatorCommandLine` and
//! `emulatorBanner`). Flags and `WX_EMULATOR_*` variables in, the options
//! ([`StartOptions`], what `startEmulator` takes) out; then the banner
//! printed once the emulator listens. The flags are described in
//! [`crate::help::OPTIONS`].
//!
//! The environment is a function (`name → value`), so that tests give
//! theirs without touching the process's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::start_options::{AppCredential, Authorizer, ComponentCredential, StartOptions};
use crate::{Emulator, EmulatorOptions};

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// `-h` / `--help` (wins over any other argument).
    Help,
    /// Run the emulator.
    Run(Box<CommandLine>),
}

/// A command line that runs the emulator.
#[derive(Debug, Clone)]
pub struct CommandLine {
    /// What `startEmulator` takes (serialized for cli.js).
    pub start: StartOptions,
    /// The same, as the emulator takes them (checked: the parse fails when
    /// they would not convert).
    pub options: EmulatorOptions,
    /// Where the secrets the banner mentions came from.
    pub sources: Sources,
}

/// Where each secret the banner mentions came from: its `--flag`, or the
/// variable's name; `None`: not given (a default, printed as it is).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sources {
    pub secret_key: Option<String>,
    pub app_secret: Option<String>,
    pub component_appsecret: Option<String>,
    pub component_verify_ticket: Option<String>,
    pub authorizers: Option<String>,
}

/// Secrets also read from the environment: (flag, variable).
pub const SECRET_VARS: &[(&str, &str)] = &[
    ("--secret-id", "WX_EMULATOR_SECRET_ID"),
    ("--secret-key", "WX_EMULATOR_SECRET_KEY"),
    ("--app-secret", "WX_EMULATOR_APP_SECRET"),
    ("--component-appsecret", "WX_EMULATOR_COMPONENT_APPSECRET"),
    (
        "--component-verify-ticket",
        "WX_EMULATOR_COMPONENT_VERIFY_TICKET",
    ),
    ("--authorizer", "WX_EMULATOR_AUTHORIZERS"),
    ("--component-token", "WX_EMULATOR_COMPONENT_TOKEN"),
    (
        "--component-encoding-aes-key",
        "WX_EMULATOR_COMPONENT_ENCODING_AES_KEY",
    ),
];

/// Flags that take a value.
const VALUE_FLAGS: &[&str] = &[
    "--port",
    "--host",
    "--data",
    "--env-id",
    "--secret-id",
    "--secret-key",
    "--appid",
    "--app-secret",
    "--component-appid",
    "--component-appsecret",
    "--component-verify-ticket",
    "--authorizer",
    "--token-lifetime",
    "--token-grace",
    "--component-event-url",
    "--component-token",
    "--component-encoding-aes-key",
    "--ticket-interval-ms",
];

/// The one flag without a value.
const ROTATE: &str = "--rotate-refresh-tokens";

/// (flag, value) in the order given.
type Flags = Vec<(&'static str, String)>;

/// `--flag value` / `--flag=value` → the flags' values in order (repeatable
/// ones too) and whether `--rotate-refresh-tokens` was given; or a usage
/// error.
fn split_flags(args: &[String]) -> Result<(Flags, bool), String> {
    let mut out = Vec::new();
    let mut rotate = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if !arg.starts_with('-') || arg == "-" {
            return Err(format!("unexpected argument {arg}"));
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if flag == ROTATE {
            if inline.is_some() {
                return Err(format!("{ROTATE} takes no value"));
            }
            rotate = true;
            continue;
        }
        let Some(flag) = VALUE_FLAGS.iter().find(|f| **f == flag) else {
            return Err(format!("unknown option {flag}"));
        };
        let value = match inline {
            Some(v) => v,
            None => rest
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        out.push((*flag, value));
    }
    Ok((out, rotate))
}

/// A whole number from 0 to `max`, or the usage error naming `flag`.
fn number(flag: &str, value: &str, max: u64) -> Result<Value, String> {
    let digits =
        !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u64>() {
        Ok(n) if digits && n <= max => Ok(n.into()),
        _ => Err(format!(
            "{flag} must be a whole number from 0 to {max}, got {value}"
        )),
    }
}

/// `APPID:REFRESH_TOKEN` values → authorizers; `source` (a flag or a
/// variable) names them in the error, which never shows the token.
fn authorizers(list: Vec<String>, source: &str) -> Result<Vec<Authorizer>, String> {
    list.into_iter()
        .map(|a| match a.split_once(':') {
            Some((appid, token)) if !appid.is_empty() && !token.is_empty() => Ok(Authorizer {
                authorizer_appid: appid.into(),
                refresh_token: token.into(),
            }),
            Some((appid, _)) if !appid.is_empty() => Err(format!(
                "{source} takes APPID:REFRESH_TOKEN, got an empty refresh token"
            )),
            Some(_) => Err(format!(
                "{source} takes APPID:REFRESH_TOKEN, got an empty APPID"
            )),
            None => Err(format!(
                "{source} takes APPID:REFRESH_TOKEN, got a value without ':'"
            )),
        })
        .collect()
}

/// The command line (without the program's name) and the environment →
/// what to do, or the usage error (naming the flag or variable, never a
/// secret).
///
/// A flat list of small steps: secrets with their variables, numbers, the
/// settings that go together; each names its flag in its error.
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Command, String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let (flags, rotate) = split_flags(args)?;
    let last = |f: &str| {
        flags
            .iter()
            .rev()
            .find(|(k, _)| *k == f)
            .map(|(_, v)| v.clone())
    };
    // A secret: from its flag (every value) or its variable (never both).
    let given = |flag: &str| -> Result<Option<(Vec<String>, String)>, String> {
        let variable = SECRET_VARS
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or("", |(_, v)| *v);
        let from_flag: Vec<String> = flags
            .iter()
            .filter(|(k, _)| *k == flag)
            .map(|(_, v)| v.clone())
            .collect();
        let from_env = env(variable).filter(|v| !v.is_empty());
        match (from_flag.is_empty(), from_env) {
            (false, Some(_)) => Err(format!("{flag} and {variable} are both set: give one")),
            (false, None) => Ok(Some((from_flag, flag.to_string()))),
            (true, Some(v)) if flag == "--authorizer" => Ok(Some((
                v.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
                variable.to_string(),
            ))),
            (true, Some(v)) => Ok(Some((vec![v], variable.to_string()))),
            (true, None) => Ok(None),
        }
    };
    // The last value of a secret given once.
    let one =
        |g: Option<(Vec<String>, String)>| g.map(|(mut v, s)| (v.pop().unwrap_or_default(), s));
    // Every variable is checked against its flag first, in SECRET_VARS' order.
    let secret_id = one(given("--secret-id")?);
    let secret_key = one(given("--secret-key")?);
    let app_secret = one(given("--app-secret")?);
    let component_appsecret = one(given("--component-appsecret")?);
    let ticket = one(given("--component-verify-ticket")?);
    let authorizer_list = given("--authorizer")?;
    let component_token = one(given("--component-token")?);
    let aes_key = one(given("--component-encoding-aes-key")?);

    let mut start = StartOptions {
        host: last("--host"),
        env_id: last("--env-id"),
        component_event_url: last("--component-event-url"),
        ..StartOptions::default()
    };
    let mut sources = Sources::default();
    if let Some(v) = last("--data") {
        if v.is_empty() {
            return Err("--data must be a non-empty path".into());
        }
        start.data_file = Some(v);
    }
    for (flag, max, field) in [
        ("--port", 65535, &mut start.port),
        (
            "--token-lifetime",
            0xffff_ffff,
            &mut start.token_lifetime_secs,
        ),
        ("--token-grace", 0xffff_ffff, &mut start.token_grace_secs),
        (
            "--ticket-interval-ms",
            0xffff_ffff,
            &mut start.ticket_interval_ms,
        ),
    ] {
        if let Some(v) = last(flag) {
            *field = Some(number(flag, &v, max)?);
        }
    }
    match (secret_id, secret_key) {
        (Some((id, _)), Some((key, s))) => {
            start.secret_id = Some(id);
            start.secret_key = Some(key);
            sources.secret_key = Some(s);
        }
        (None, None) => {}
        _ => {
            return Err(
                "a secret id (--secret-id or WX_EMULATOR_SECRET_ID) and a secret key \
                 (--secret-key or WX_EMULATOR_SECRET_KEY) go together"
                    .into(),
            )
        }
    }
    match (last("--appid"), app_secret) {
        (Some(appid), Some((secret, s))) => {
            start.app_credentials = Some(vec![AppCredential { appid, secret }]);
            sources.app_secret = Some(s);
        }
        (None, None) => {}
        _ => {
            return Err(
                "--appid and an app secret (--app-secret or WX_EMULATOR_APP_SECRET) go together"
                    .into(),
            )
        }
    }
    match (last("--component-appid"), component_appsecret) {
        (Some(component_appid), Some((component_appsecret, s))) => {
            start.component_credentials = Some(vec![ComponentCredential {
                component_appid,
                component_appsecret,
            }]);
            sources.component_appsecret = Some(s);
        }
        (None, None) => {}
        _ => {
            return Err(
                "--component-appid and a component secret (--component-appsecret or \
                 WX_EMULATOR_COMPONENT_APPSECRET) go together"
                    .into(),
            )
        }
    }
    if let Some((t, s)) = ticket {
        start.component_verify_ticket = Some(t);
        sources.component_verify_ticket = Some(s);
    }
    if let Some((list, s)) = authorizer_list {
        start.authorizers = Some(authorizers(list, &s)?);
        sources.authorizers = Some(s);
    }
    if rotate {
        start.rotate_refresh_tokens = Some(true);
    }
    start.component_token = component_token.map(|(t, _)| t);
    start.component_encoding_aes_key = aes_key.map(|(k, _)| k);
    let events = [
        start.component_event_url.is_some(),
        start.component_token.is_some(),
        start.component_encoding_aes_key.is_some(),
    ];
    if events.contains(&true) && events.contains(&false) {
        return Err(
            "--component-event-url, a component token (--component-token or \
             WX_EMULATOR_COMPONENT_TOKEN) and an EncodingAESKey \
             (--component-encoding-aes-key or WX_EMULATOR_COMPONENT_ENCODING_AES_KEY) \
             go together"
                .into(),
        );
    }
    if start.ticket_interval_ms.is_some() && start.component_event_url.is_none() {
        return Err("--ticket-interval-ms needs --component-event-url".into());
    }
    // Every rule is checked above with the flags' names; this cannot fail.
    let options = EmulatorOptions::try_from(start.clone())?;
    Ok(Command::Run(Box::new(CommandLine {
        start,
        options,
        sources,
    })))
}

/// `v`'s JSON text without its top-level `null` members.
fn without_nulls(v: &impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(Value::Object(mut m)) => {
            m.retain(|_, v| !v.is_null());
            Value::Object(m).to_string()
        }
        Ok(other) => other.to_string(),
        Err(_) => "{}".into(),
    }
}

/// Is `host` a loopback address (or a name for one)?
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.octets()[0] == 127)
}

impl CommandLine {
    /// The options as JSON text for `startEmulator` (options not given
    /// left out).
    pub fn options_json(&self) -> String {
        without_nulls(&self.start)
    }

    /// [`Sources`] as JSON text (for the banner of cli.js).
    pub fn sources_json(&self) -> String {
        without_nulls(&self.sources)
    }

    /// The warning to print before listening on a non-loopback address
    /// (each front end puts its name before it).
    pub fn warning(&self) -> Option<String> {
        let host = &self.options.host;
        (!is_loopback(host)).then(|| {
            format!(
                "warning: --host {host} is not a loopback address: the emulator will be \
                 reachable from other machines; it speaks plain HTTP and accepts the \
                 credentials it prints"
            )
        })
    }
}

/// Where a started emulator listens: what the banner shows of it.
#[derive(Debug, Clone)]
pub struct Listening {
    /// [`Emulator::url`].
    pub url: String,
    /// [`Emulator::https_base_url`].
    pub https_base_url: String,
    /// [`Emulator::cloud_env`] (in any order).
    pub cloud_env: Vec<(String, String)>,
}

impl Listening {
    /// What `emu` shows.
    pub fn of(emu: &Emulator) -> Listening {
        Listening {
            url: emu.url(),
            https_base_url: emu.https_base_url(),
            cloud_env: emu.cloud_env(),
        }
    }
}

/// `'…'` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The lines printed once the emulator listens: credentials, the
/// component_verify_ticket it takes, the token settings, the event URL
/// (without its password), then the export lines for a shell, the variables
/// sorted. A secret that was given is never printed: its line says where it
/// came from.
pub fn banner(opts: &EmulatorOptions, sources: &Sources, at: &Listening) -> Vec<String> {
    let secret = |s: &Option<String>, v: &str| match s {
        Some(s) => format!("(the {s} you gave)"),
        None => v.to_string(),
    };
    let pair = |l: &[(String, String)]| l.first().cloned().unwrap_or_default();
    let (appid, app_secret) = pair(&opts.app_credentials);
    let (comp, comp_secret) = pair(&opts.component_credentials);
    // What api_component_token takes (wechat.rs): the given ticket or a
    // pushed one; without either rule, any non-empty value.
    let pushed = "the tickets it pushes to the event URL";
    let ticket = match (&opts.component_verify_ticket, &opts.component_events) {
        (Some(t), Some(_)) => format!(
            "{}, or {pushed}",
            secret(&sources.component_verify_ticket, t)
        ),
        (Some(t), None) => secret(&sources.component_verify_ticket, t),
        (None, Some(_)) => format!("{pushed} (any other: 61006)"),
        (None, None) => "any non-empty value".into(),
    };
    let mut lines = vec![
        format!("# wx-cloud-openapi emulator listening on {}", at.url),
        format!(
            "# WeChat API base URL (--api-base-url): {}",
            at.https_base_url
        ),
        format!(
            "# app: appid {appid}, secret {}",
            secret(&sources.app_secret, &app_secret)
        ),
        format!(
            "# third-party platform: component_appid {comp}, component_appsecret {}",
            secret(&sources.component_appsecret, &comp_secret)
        ),
        format!("# component_verify_ticket: {ticket}"),
    ];
    for (a, token) in &opts.authorizers {
        lines.push(format!(
            "# authorizer: authorizer_appid {a}, authorizer_refresh_token {}",
            secret(&sources.authorizers, token)
        ));
    }
    lines.push(format!(
        "# tokens: lifetime {} s, grace {} s; refresh tokens {}",
        opts.token_lifetime_secs,
        opts.token_grace_secs,
        if opts.rotate_refresh_tokens {
            "rotate on every renewal"
        } else {
            "stay the same"
        }
    ));
    if let Some(p) = &opts.component_events {
        let ms = opts.ticket_interval.as_millis();
        lines.push(format!(
            "# component events: pushed to {}, {}",
            wx_cloud_core::wire::redact_url_userinfo(&p.url),
            if ms == 0 {
                "no ticket on a schedule".to_string()
            } else {
                format!("a new ticket at start and every {ms} ms")
            }
        ));
    }
    lines.push(format!(
        "# control API: {}{} (authorize, revoke, push-ticket, faults, environments, stats)",
        at.url,
        crate::control::PREFIX
    ));
    let mut env = at.cloud_env.clone();
    env.sort();
    for (k, v) in env {
        match &sources.secret_key {
            // Never print a secret key that was given: refer to where it came from.
            Some(s) if k == "TENCENTCLOUD_SECRETKEY" => lines.push(if s.starts_with("--") {
                format!("# export {k}=… (the --secret-key you gave)")
            } else {
                format!("export {k}=\"${s}\"")
            }),
            _ => lines.push(format!("export {k}={}", shell_quote(&v))),
        }
    }
    // The HTTPS and third-party modes read it: pasted with the rest, they
    // talk to this emulator instead of api.weixin.qq.com.
    lines.push(format!(
        "export WX_API_BASE_URL={}",
        shell_quote(&at.https_base_url)
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn run(a: &[&str], env: &dyn Fn(&str) -> Option<String>) -> CommandLine {
        match parse(&args(a), env) {
            Ok(Command::Run(c)) => *c,
            Ok(Command::Help) => panic!("help"),
            Err(e) => panic!("{e}"),
        }
    }

    fn at() -> Listening {
        Listening {
            url: "http://127.0.0.1:5".into(),
            https_base_url: "http://127.0.0.1:5".into(),
            cloud_env: vec![
                ("TENCENTCLOUD_SECRETKEY".into(), "the-key".into()),
                ("TCB_ENV".into(), "it's".into()),
            ],
        }
    }

    #[test]
    fn help_wins() {
        assert!(matches!(
            parse(&args(&["--nope", "-h"]), &no_env),
            Ok(Command::Help)
        ));
        assert!(matches!(
            parse(&args(&["--help"]), &no_env),
            Ok(Command::Help)
        ));
    }

    #[test]
    fn flags_take_a_value_either_way() {
        let c = run(
            &[
                "--port=0",
                "--host",
                "127.0.0.1",
                "--env-id",
                "e1",
                "--token-lifetime=60",
                "--secret-id",
                "AKIDx",
                "--secret-key=k",
                "--rotate-refresh-tokens",
                "--authorizer",
                "wxa:r1",
                "--authorizer=wxb:r2:with-colon",
                "--data",
                "envs.json",
            ],
            &no_env,
        );
        let o = &c.options;
        assert_eq!((o.port, o.env_id.as_str()), (0, "e1"));
        assert_eq!(o.token_lifetime_secs, 60);
        assert_eq!(o.secret_pairs, vec![("AKIDx".to_string(), "k".to_string())]);
        assert!(o.rotate_refresh_tokens);
        assert_eq!(
            o.authorizers,
            vec![
                ("wxa".into(), "r1".into()),
                ("wxb".into(), "r2:with-colon".into())
            ]
        );
        assert!(o.data_file.as_ref().unwrap().ends_with("envs.json"));
        assert_eq!(c.sources.secret_key.as_deref(), Some("--secret-key"));
        assert_eq!(c.sources.authorizers.as_deref(), Some("--authorizer"));
        assert_eq!(c.warning(), None);
        // What cli.js hands to startEmulator: the same options.
        let json = c.options_json();
        assert!(!json.contains("null"), "{json}");
        let again = crate::start_options::from_json(&json).unwrap();
        assert_eq!(again.authorizers, o.authorizers);
        assert_eq!((again.port, again.token_lifetime_secs), (0, 60));
    }

    #[test]
    fn secrets_come_from_the_environment_too() {
        let env = |k: &str| match k {
            "WX_EMULATOR_COMPONENT_APPSECRET" => Some("csecret".to_string()),
            "WX_EMULATOR_AUTHORIZERS" => Some("wxa:r1, wxb:r2,".to_string()),
            "WX_EMULATOR_COMPONENT_TOKEN" => Some("tok".to_string()),
            "WX_EMULATOR_COMPONENT_ENCODING_AES_KEY" => Some("k".repeat(43)),
            // Empty: not given.
            "WX_EMULATOR_APP_SECRET" => Some(String::new()),
            _ => None,
        };
        let c = run(
            &[
                "--component-appid",
                "wxcomp",
                "--component-event-url",
                "http://127.0.0.1:9/events",
                "--ticket-interval-ms=0",
            ],
            &env,
        );
        let o = c.options.clone();
        assert_eq!(
            o.component_credentials,
            vec![("wxcomp".into(), "csecret".into())]
        );
        assert_eq!(
            c.sources.component_appsecret.as_deref(),
            Some("WX_EMULATOR_COMPONENT_APPSECRET")
        );
        assert_eq!(c.sources.app_secret, None);
        assert_eq!(
            serde_json::from_str::<Sources>(&c.sources_json()).unwrap(),
            c.sources
        );
        assert_eq!(
            o.authorizers,
            vec![("wxa".into(), "r1".into()), ("wxb".into(), "r2".into())]
        );
        let p = o.component_events.expect("events");
        assert_eq!((p.token.as_str(), p.encoding_aes_key.len()), ("tok", 43));
        assert!(o.ticket_interval.is_zero());
    }

    #[test]
    fn usage_errors_name_the_flag_and_never_a_secret() {
        for (a, want) in [
            (&["--nope"][..], "unknown option --nope"),
            (&["--port"][..], "--port needs a value"),
            (
                &["--port", "70000"][..],
                "--port must be a whole number from 0 to 65535, got 70000",
            ),
            (
                &["--token-lifetime=x"][..],
                "--token-lifetime must be a whole number from 0 to 4294967295, got x",
            ),
            (&["--token-grace", "-1"][..], "--token-grace must be"),
            (&["--rotate-refresh-tokens=yes"][..], "--rotate-refresh-tokens takes no value"),
            (&["--data="][..], "--data must be a non-empty path"),
            (&["--secret-id", "a"][..], "a secret id (--secret-id or WX_EMULATOR_SECRET_ID) and a secret key"),
            (&["--secret-key", "HUSH"][..], "a secret id"),
            (&["--appid", "wx1"][..], "--appid and an app secret"),
            (&["--component-appsecret", "HUSH"][..], "--component-appid and a component secret"),
            (&["--authorizer", "wxa:"][..], "--authorizer takes APPID:REFRESH_TOKEN, got an empty refresh token"),
            (&["--authorizer", ":HUSH"][..], "--authorizer takes APPID:REFRESH_TOKEN, got an empty APPID"),
            (&["--authorizer", "HUSH"][..], "--authorizer takes APPID:REFRESH_TOKEN, got a value without ':'"),
            (
                &["--component-token", "HUSH"][..],
                "--component-event-url, a component token (--component-token or WX_EMULATOR_COMPONENT_TOKEN) and an EncodingAESKey",
            ),
            (&["--ticket-interval-ms", "5"][..], "--ticket-interval-ms needs --component-event-url"),
            (&["extra"][..], "unexpected argument extra"),
            (&["-"][..], "unexpected argument -"),
        ] {
            let err = parse(&args(a), &no_env).expect_err("a usage error");
            assert!(err.starts_with(want), "{a:?}: {err}");
            assert!(!err.contains("HUSH"), "{a:?}: {err}");
        }
        let env = |k: &str| match k {
            "WX_EMULATOR_APP_SECRET" => Some("HUSH".to_string()),
            "WX_EMULATOR_AUTHORIZERS" => Some("wxa:".to_string()),
            _ => None,
        };
        let err = parse(&args(&["--app-secret", "x", "--appid", "a"]), &env)
            .err()
            .unwrap();
        assert_eq!(
            err,
            "--app-secret and WX_EMULATOR_APP_SECRET are both set: give one"
        );
        let err = parse(&args(&["--appid", "a"]), &env).unwrap_err();
        assert_eq!(
            err,
            "WX_EMULATOR_AUTHORIZERS takes APPID:REFRESH_TOKEN, got an empty refresh token"
        );
    }

    #[test]
    fn a_non_loopback_host_is_warned_about() {
        for (host, warned) in [
            ("127.0.0.1", false),
            ("127.1.2.3", false),
            ("localhost", false),
            ("::1", false),
            ("[::1]", false),
            ("0.0.0.0", true),
            ("192.0.2.1", true),
            ("128.0.0.1", true),
        ] {
            let c = run(&["--host", host], &no_env);
            assert_eq!(c.warning().is_some(), warned, "{host}");
        }
        let w = run(&["--host", "0.0.0.0"], &no_env).warning().unwrap();
        assert!(
            w.starts_with("warning: --host 0.0.0.0 is not a loopback address: "),
            "{w}"
        );
    }

    #[test]
    fn the_banner_shows_defaults_and_never_a_given_secret() {
        let c = run(&[], &no_env);
        let lines = banner(&c.options, &c.sources, &at());
        assert_eq!(
            lines,
            vec![
                "# wx-cloud-openapi emulator listening on http://127.0.0.1:5",
                "# WeChat API base URL (--api-base-url): http://127.0.0.1:5",
                "# app: appid wx0emulatorapp0001, secret emulator-app-secret",
                "# third-party platform: component_appid wx0emulatorcomp001, component_appsecret emulator-component-secret",
                "# component_verify_ticket: any non-empty value",
                "# authorizer: authorizer_appid wx0emulatorauth001, authorizer_refresh_token emulator-refresh-token",
                "# tokens: lifetime 7200 s, grace 300 s; refresh tokens stay the same",
                "# control API: http://127.0.0.1:5/__emulator/ (authorize, revoke, push-ticket, faults, environments, stats)",
                "export TCB_ENV='it'\\''s'",
                "export TENCENTCLOUD_SECRETKEY='the-key'",
                "export WX_API_BASE_URL='http://127.0.0.1:5'",
            ]
        );
        let env = |k: &str| match k {
            "WX_EMULATOR_SECRET_KEY" => Some("HUSH-K".to_string()),
            "WX_EMULATOR_COMPONENT_VERIFY_TICKET" => Some("HUSH-T".to_string()),
            "WX_EMULATOR_COMPONENT_TOKEN" => Some("HUSH-C".to_string()),
            "WX_EMULATOR_COMPONENT_ENCODING_AES_KEY" => Some("HUSH-E".to_string()),
            _ => None,
        };
        let c = run(
            &[
                "--secret-id=AKIDx",
                "--appid=wx1",
                "--app-secret=HUSH-A",
                "--component-appid=wxc",
                "--component-appsecret=HUSH-B",
                "--authorizer=wxa:HUSH-R",
                "--token-lifetime=0",
                "--rotate-refresh-tokens",
                "--component-event-url=http://u:HUSH-P@127.0.0.1:9/e",
                "--ticket-interval-ms=50",
            ],
            &env,
        );
        let text = banner(&c.options, &c.sources, &at()).join("\n");
        assert!(!text.contains("HUSH"), "{text}");
        for want in [
            "# app: appid wx1, secret (the --app-secret you gave)",
            "component_appid wxc, component_appsecret (the --component-appsecret you gave)",
            "# component_verify_ticket: (the WX_EMULATOR_COMPONENT_VERIFY_TICKET you gave), or the tickets it pushes to the event URL",
            "authorizer_appid wxa, authorizer_refresh_token (the --authorizer you gave)",
            "# tokens: lifetime 0 s, grace 300 s; refresh tokens rotate on every renewal",
            "# component events: pushed to http://***@127.0.0.1:9/e, a new ticket at start and every 50 ms",
            "export TENCENTCLOUD_SECRETKEY=\"$WX_EMULATOR_SECRET_KEY\"",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        let c = run(&["--secret-id=AKIDx", "--secret-key=HUSH-K"], &no_env);
        let text = banner(&c.options, &c.sources, &at()).join("\n");
        assert!(text.contains("# export TENCENTCLOUD_SECRETKEY=… (the --secret-key you gave)"));
        assert!(!text.contains("HUSH"), "{text}");
    }
}
