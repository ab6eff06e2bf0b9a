//! `wx-cloud-emulator`: the local emulator as a program, for test suites in
//! any language (no Node needed). The same flags, output and exit codes as
//! `npx wx-cloud-openapi emulator` (cli.js).

use std::process::ExitCode;

use wx_cloud_emulator::{Emulator, EmulatorOptions, PushOptions};

/// The usage text: the options are the library's (`help::OPTIONS`), shared
/// with `npx wx-cloud-openapi emulator --help`.
fn usage() -> String {
    format!(
        "Usage: wx-cloud-emulator [options]\n{}{EXIT_CODES}",
        wx_cloud_emulator::help::OPTIONS
    )
}

const EXIT_CODES: &str = "Exit codes:
  0  stopped by SIGINT/SIGTERM
  2  usage error
  3  the emulator could not start (port in use, bad data file)
";

const EXIT_USAGE: u8 = 2;
const EXIT_START: u8 = 3;

/// What the command line asks for.
enum Command {
    Help,
    Run(Box<EmulatorOptions>, Sources),
}

/// Where each secret came from (`--flag`, or the variable's name), so that
/// none is printed; and what the banner shows of the options.
#[derive(Default)]
struct Sources {
    secret_key: Option<&'static str>,
    app_secret: Option<&'static str>,
    component_appsecret: Option<&'static str>,
    component_verify_ticket: Option<&'static str>,
    authorizers: Option<&'static str>,
}

/// Secrets also read from the environment: (flag, variable), as in cli.js.
const SECRET_VARS: &[(&str, &str)] = &[
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

/// `--flag value` / `--flag=value` → the flags' values (repeatable ones in
/// order), or a usage error.
fn split_flags(args: &[String]) -> Result<(Vec<(String, String)>, bool), String> {
    let mut out = Vec::new();
    let mut rotate = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if !arg.starts_with('-') || arg == "-" {
            return Err(format!("unexpected argument {arg}"));
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if flag == "--rotate-refresh-tokens" && inline.is_none() {
            rotate = true;
            i += 1;
            continue;
        }
        if !VALUE_FLAGS.contains(&flag) {
            return Err(format!("unknown option {flag}"));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))?
            }
        };
        out.push((flag.to_string(), value));
        i += 1;
    }
    Ok((out, rotate))
}

/// A whole number from 0 to `max`, or the usage error naming `flag`.
fn number(flag: &str, value: &str, max: u64) -> Result<u64, String> {
    let ok = !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u64>() {
        Ok(n) if ok && n <= max => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number from 0 to {max}, got {value}"
        )),
    }
}

/// The command line and the environment → options, as cli.js reads them.
///
/// One piece on purpose: a flat list of small steps (secrets with their
/// variables, then numbers, then ids), each naming its flag in its error.
fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Command, String> {
    // As in cli.js: help wins over any other argument.
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let (flags, rotate) = split_flags(args)?;
    let last = |f: &str| {
        flags
            .iter()
            .rev()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.clone())
    };
    // A secret: from its flag or its variable (never both).
    let given = |flag: &'static str| -> Result<Option<(Vec<String>, &'static str)>, String> {
        let variable = SECRET_VARS
            .iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| *v)
            .unwrap_or_default();
        let from_flag: Vec<String> = flags
            .iter()
            .filter(|(k, _)| k == flag)
            .map(|(_, v)| v.clone())
            .collect();
        let from_env = env(variable).filter(|v| !v.is_empty());
        match (from_flag.is_empty(), from_env) {
            (false, Some(_)) => Err(format!("{flag} and {variable} are both set: give one")),
            (false, None) => {
                let values = if flag == "--authorizer" {
                    from_flag
                } else {
                    from_flag.into_iter().last().into_iter().collect()
                };
                Ok(Some((values, flag)))
            }
            (true, Some(v)) => {
                let values = if flag == "--authorizer" {
                    v.split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect()
                } else {
                    vec![v]
                };
                Ok(Some((values, variable)))
            }
            (true, None) => Ok(None),
        }
    };
    let one = |g: Option<(Vec<String>, &'static str)>| {
        g.map(|(mut v, s)| (v.pop().unwrap_or_default(), s))
    };
    let secret_id = one(given("--secret-id")?);
    let secret_key = one(given("--secret-key")?);
    let app_secret = one(given("--app-secret")?);
    let component_appsecret = one(given("--component-appsecret")?);
    let ticket = one(given("--component-verify-ticket")?);
    let authorizers = given("--authorizer")?;
    let component_token = one(given("--component-token")?);
    let aes_key = one(given("--component-encoding-aes-key")?);

    let mut opts = EmulatorOptions::default();
    let mut src = Sources::default();
    if let Some(v) = last("--port") {
        opts.port = number("--port", &v, 65535)? as u16;
    }
    if let Some(v) = last("--host") {
        opts.host = v;
    }
    if let Some(v) = last("--data") {
        opts.data_file = Some(v.into());
    }
    if let Some(v) = last("--env-id") {
        opts.env_id = v;
    }
    if let Some(v) = last("--token-lifetime") {
        opts.token_lifetime_secs = number("--token-lifetime", &v, 0xffff_ffff)?;
    }
    if let Some(v) = last("--token-grace") {
        opts.token_grace_secs = number("--token-grace", &v, 0xffff_ffff)?;
    }
    let interval = match last("--ticket-interval-ms") {
        Some(v) => Some(number("--ticket-interval-ms", &v, 0xffff_ffff)?),
        None => None,
    };
    match (secret_id, secret_key) {
        (Some((id, _)), Some((key, s))) => {
            opts.secret_pairs = vec![(id, key)];
            src.secret_key = Some(s);
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
            opts.app_credentials = vec![(appid, secret)];
            src.app_secret = Some(s);
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
        (Some(appid), Some((secret, s))) => {
            opts.component_credentials = vec![(appid, secret)];
            src.component_appsecret = Some(s);
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
        opts.component_verify_ticket = Some(t);
        src.component_verify_ticket = Some(s);
    }
    if let Some((list, s)) = authorizers {
        let mut parsed = Vec::new();
        for a in list {
            match a.split_once(':') {
                Some((appid, token)) if !appid.is_empty() && !token.is_empty() => {
                    parsed.push((appid.to_string(), token.to_string()))
                }
                Some((appid, _)) if !appid.is_empty() => {
                    return Err(format!(
                        "{s} takes APPID:REFRESH_TOKEN, got an empty refresh token"
                    ))
                }
                _ => {
                    let head: String = a.chars().take(24).collect();
                    return Err(format!(
                        "{s} takes APPID:REFRESH_TOKEN, got {}",
                        serde_json::Value::String(head)
                    ));
                }
            }
        }
        opts.authorizers = parsed;
        src.authorizers = Some(s);
    }
    opts.rotate_refresh_tokens = rotate;
    match (last("--component-event-url"), component_token, aes_key) {
        (Some(url), Some((token, _)), Some((key, _))) => {
            opts.component_events = Some(PushOptions {
                url,
                token,
                encoding_aes_key: key,
            })
        }
        (None, None, None) => {}
        _ => {
            return Err(
                "--component-event-url, a component token (--component-token or \
                        WX_EMULATOR_COMPONENT_TOKEN) and an EncodingAESKey \
                        (--component-encoding-aes-key or WX_EMULATOR_COMPONENT_ENCODING_AES_KEY) \
                        go together"
                    .into(),
            )
        }
    }
    match interval {
        Some(_) if opts.component_events.is_none() => {
            return Err("--ticket-interval-ms needs --component-event-url".into())
        }
        Some(ms) => opts.ticket_interval = std::time::Duration::from_millis(ms),
        None => {}
    }
    Ok(Command::Run(Box::new(opts), src))
}

/// Is `host` a loopback address (or a name for one)?
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.octets()[0] == 127)
}

/// The lines printed once the emulator listens: credentials, then the
/// export lines (as cli.js prints them; secrets given are never printed).
fn banner(emu: &Emulator, opts: &EmulatorOptions, src: &Sources) -> Vec<String> {
    let secret = |s: Option<&str>, v: &str| match s {
        Some(s) => format!("(the {s} you gave)"),
        None => v.to_string(),
    };
    let (appid, app_secret) = &opts.app_credentials[0];
    let (comp, comp_secret) = &opts.component_credentials[0];
    let mut lines = vec![
        format!("# wx-cloud-openapi emulator listening on {}", emu.url()),
        format!(
            "# WeChat API base URL (--api-base-url): {}",
            emu.https_base_url()
        ),
        format!(
            "# app: appid {appid}, secret {}",
            secret(src.app_secret, app_secret)
        ),
        format!(
            "# third-party platform: component_appid {comp}, component_appsecret {}",
            secret(src.component_appsecret, comp_secret)
        ),
        format!("# component_verify_ticket: {}", {
            // What api_component_token takes (wechat.rs): the given ticket or
            // a pushed one; without either rule, any non-empty value.
            let pushed = "the tickets it pushes to the event URL";
            match (&opts.component_verify_ticket, &opts.component_events) {
                (Some(t), Some(_)) => {
                    format!("{}, or {pushed}", secret(src.component_verify_ticket, t))
                }
                (Some(t), None) => secret(src.component_verify_ticket, t),
                (None, Some(_)) => format!("{pushed} (any other: 61006)"),
                (None, None) => "any non-empty value".into(),
            }
        }),
    ];
    for (a, token) in &opts.authorizers {
        lines.push(format!(
            "# authorizer: authorizer_appid {a}, authorizer_refresh_token {}",
            secret(src.authorizers, token)
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
            wx_cloud_core::options::redact_url_userinfo(&p.url),
            if ms == 0 {
                "no ticket on a schedule".to_string()
            } else {
                format!("a new ticket at start and every {ms} ms")
            }
        ));
    }
    // In the order cli.js prints them (the addon gives them sorted).
    let mut env = emu.cloud_env();
    env.sort();
    for (k, v) in env {
        match src.secret_key {
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
        shell_quote(&emu.https_base_url())
    ));
    lines
}

/// `'…'` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// SIGINT or SIGTERM, registered now (before the URL is printed, so a
/// test that reads it and stops the program at once is never too early).
#[cfg(unix)]
fn stop_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
fn stop_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, sources) = match parse(&args, &|k| std::env::var(k).ok()) {
        Ok(Command::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(opts, sources)) => (*opts, sources),
        Err(msg) => {
            eprintln!("wx-cloud-emulator: {msg}\n(wx-cloud-emulator --help for usage)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if !is_loopback(&opts.host) {
        eprintln!(
            "wx-cloud-emulator: warning: --host {} is not a loopback address: the emulator will be \
             reachable from other machines; it speaks plain HTTP and accepts the credentials it prints",
            opts.host
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wx-cloud-emulator: cannot start a runtime: {e}");
            return ExitCode::from(EXIT_START);
        }
    };
    runtime.block_on(async {
        let emu = match Emulator::start(opts.clone()).await {
            Ok(emu) => emu,
            Err(e) => {
                eprintln!("wx-cloud-emulator: {e}");
                return ExitCode::from(EXIT_START);
            }
        };
        let stopped = match stop_signals() {
            Ok(stopped) => stopped,
            Err(e) => {
                eprintln!("wx-cloud-emulator: cannot watch for SIGINT/SIGTERM: {e}");
                return ExitCode::from(EXIT_START);
            }
        };
        // Printed once the emulator listens and the signals are watched, so
        // a test can read the URL and go.
        println!("{}", banner(&emu, &opts, &sources).join("\n"));
        stopped.await;
        emu.close().await;
        ExitCode::SUCCESS
    })
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

    fn run(a: &[&str], env: &dyn Fn(&str) -> Option<String>) -> (EmulatorOptions, Sources) {
        match parse(&args(a), env) {
            Ok(Command::Run(o, s)) => (*o, s),
            Ok(Command::Help) => panic!("help"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn flags_take_a_value_either_way() {
        let (o, _) = run(
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
                "--authorizer=wxb:r2",
            ],
            &no_env,
        );
        assert_eq!((o.port, o.env_id.as_str()), (0, "e1"));
        assert_eq!(o.token_lifetime_secs, 60);
        assert_eq!(o.secret_pairs, vec![("AKIDx".to_string(), "k".to_string())]);
        assert!(o.rotate_refresh_tokens);
        assert_eq!(
            o.authorizers,
            vec![("wxa".into(), "r1".into()), ("wxb".into(), "r2".into())]
        );
    }

    #[test]
    fn secrets_come_from_the_environment_too() {
        let env = |k: &str| match k {
            "WX_EMULATOR_COMPONENT_APPSECRET" => Some("csecret".to_string()),
            "WX_EMULATOR_AUTHORIZERS" => Some("wxa:r1, wxb:r2".to_string()),
            "WX_EMULATOR_COMPONENT_TOKEN" => Some("tok".to_string()),
            "WX_EMULATOR_COMPONENT_ENCODING_AES_KEY" => Some("k".repeat(43)),
            _ => None,
        };
        let (o, s) = run(
            &[
                "--component-appid",
                "wxcomp",
                "--component-event-url",
                "http://127.0.0.1:9/events",
                "--ticket-interval-ms=0",
            ],
            &env,
        );
        assert_eq!(
            o.component_credentials,
            vec![("wxcomp".into(), "csecret".into())]
        );
        assert_eq!(
            s.component_appsecret,
            Some("WX_EMULATOR_COMPONENT_APPSECRET")
        );
        assert_eq!(o.authorizers.len(), 2);
        let p = o.component_events.expect("events");
        assert_eq!((p.token.as_str(), p.encoding_aes_key.len()), ("tok", 43));
        assert!(o.ticket_interval.is_zero());
    }

    #[test]
    fn usage_errors_name_the_flag() {
        let both = |k: &str| (k == "WX_EMULATOR_APP_SECRET").then(|| "s".to_string());
        for (a, want) in [
            (&["--nope"][..], "unknown option --nope"),
            (&["--port"][..], "--port needs a value"),
            (&["--port", "70000"][..], "--port must be"),
            (&["--token-lifetime=x"][..], "--token-lifetime must be"),
            (&["--secret-id", "a"][..], "go together"),
            (&["--appid", "wx1"][..], "--appid and an app secret"),
            (&["--authorizer", "wxa:"][..], "empty refresh token"),
            (
                &["--component-token", "t"][..],
                "--component-event-url, a component token",
            ),
            (
                &["--ticket-interval-ms", "5"][..],
                "needs --component-event-url",
            ),
            (&["extra"][..], "unexpected argument extra"),
        ] {
            let err = parse(&args(a), &no_env).err().expect("a usage error");
            assert!(err.contains(want), "{a:?}: {err}");
        }
        let err = parse(&args(&["--app-secret", "x"]), &both).err().unwrap();
        assert!(
            err.contains("--app-secret and WX_EMULATOR_APP_SECRET are both set"),
            "{err}"
        );
    }
}
