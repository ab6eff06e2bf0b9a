//! `wx-cloud-emulator`: the local emulator as a program, for test suites in
//! any language (no Node needed). The same flags, output and exit codes as
//! `npx wx-cloud-openapi emulator` (cli.js).

use std::process::ExitCode;

use wx_cloud_emulator::{Emulator, EmulatorOptions};

const USAGE: &str = "Usage: wx-cloud-emulator [options]

Run the local emulator of the cloud-base gateway and the WeChat HTTPS API
until SIGINT/SIGTERM. Prints its URL and, as export lines, the environment a
cloud function needs to call it.

  --port N              port to listen on (default: a free port)
  --host IP             address to listen on (default: 127.0.0.1)
  --data FILE           keep environments in FILE (loaded at start; each one is
                        on disk before its creation is answered)
  --secret-id ID        secretId the gateway accepts (with --secret-key)
  --secret-key KEY      secretKey the gateway accepts (with --secret-id)
  --env-id ID           the emulated function's environment (default: emulator-env)
  --token-lifetime S    lifetime of issued access tokens, seconds (default: 7200)
  -h, --help            show this help

Exit codes:
  0  stopped by SIGINT/SIGTERM
  2  usage error
  3  the emulator could not start (port in use, bad data file)
";

const EXIT_USAGE: u8 = 2;
const EXIT_START: u8 = 3;

/// What the command line asks for.
enum Command {
    Help,
    Run(Box<EmulatorOptions>),
}

/// `--flag value` / `--flag=value` → options, or a usage error.
fn parse(args: &[String]) -> Result<Command, String> {
    // As in cli.js: help wins over any other argument.
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let mut opts = EmulatorOptions::default();
    let (mut secret_id, mut secret_key) = (None, None);
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
        const FLAGS: &[&str] = &[
            "--port",
            "--host",
            "--data",
            "--secret-id",
            "--secret-key",
            "--env-id",
            "--token-lifetime",
        ];
        if !FLAGS.contains(&flag) {
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
        match flag {
            "--port" => {
                opts.port = value
                    .parse()
                    .map_err(|_| format!("--port must be a port number 0..=65535, got {value}"))?
            }
            "--host" => opts.host = value,
            "--data" => opts.data_file = Some(value.into()),
            "--secret-id" => secret_id = Some(value),
            "--secret-key" => secret_key = Some(value),
            "--env-id" => opts.env_id = value,
            _ => {
                opts.token_lifetime_secs = value.parse().map_err(|_| {
                    format!("--token-lifetime must be a number of seconds, got {value}")
                })?
            }
        }
        i += 1;
    }
    match (secret_id, secret_key) {
        (Some(id), Some(key)) => opts.secret_pairs = vec![(id, key)],
        (None, None) => {}
        _ => return Err("--secret-id and --secret-key must be given together".into()),
    }
    Ok(Command::Run(Box::new(opts)))
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
    let opts = match parse(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(opts)) => *opts,
        Err(msg) => {
            eprintln!("wx-cloud-emulator: {msg}\n(wx-cloud-emulator --help for usage)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
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
        let emu = match Emulator::start(opts).await {
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
        let mut lines = vec![
            format!("# wx-cloud-openapi emulator listening on {}", emu.url()),
            format!(
                "# WeChat API base URL (--api-base-url): {}",
                emu.https_base_url()
            ),
        ];
        for (k, v) in emu.cloud_env() {
            lines.push(format!("export {k}={}", shell_quote(&v)));
        }
        // Printed once the emulator listens and the signals are watched, so
        // a test can read the URL and go.
        println!("{}", lines.join("\n"));
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

    #[test]
    fn flags_take_a_value_either_way() {
        let Ok(Command::Run(o)) = parse(&args(&[
            "--port=0",
            "--host",
            "127.0.0.1",
            "--env-id",
            "e1",
            "--token-lifetime=60",
            "--secret-id",
            "AKIDx",
            "--secret-key=k",
        ])) else {
            panic!("not parsed")
        };
        assert_eq!((o.port, o.env_id.as_str()), (0, "e1"));
        assert_eq!(o.token_lifetime_secs, 60);
        assert_eq!(o.secret_pairs, vec![("AKIDx".to_string(), "k".to_string())]);
    }

    #[test]
    fn usage_errors_name_the_flag() {
        for (a, want) in [
            (&["--nope"][..], "unknown option --nope"),
            (&["--port"][..], "--port needs a value"),
            (&["--port", "70000"][..], "--port must be"),
            (&["--token-lifetime=x"][..], "--token-lifetime must be"),
            (&["--secret-id", "a"][..], "must be given together"),
            (&["extra"][..], "unexpected argument extra"),
        ] {
            let err = parse(&args(a)).err().expect("a usage error");
            assert!(err.contains(want), "{a:?}: {err}");
        }
    }
}
