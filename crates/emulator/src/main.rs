//! `wx-cloud-emulator`: the local emulator as a program, for test suites in
//! any language (no Node needed). The same flags, output and exit codes as
//! `npx wx-cloud-openapi emulator` (cli.js): both read the command line and
//! print the banner with the library's `command_line`; this file starts,
//! watches the signals and stops.

use std::process::ExitCode;

use wx_cloud_emulator::command_line::{self, Command, Listening};
use wx_cloud_emulator::Emulator;

/// mimalloc, the allocator the addon uses (the root `src/lib.rs`); set
/// here, in the program, and not in the library, which leaves the choice to
/// its user.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// The runtime's worker threads on `cores` available cores: one per spare
/// core (the emulator's clients, a test suite, need one), at least 1 and at
/// most 2, as the addon's runtime. An emulated call is ~10-20 µs of work;
/// on two cores a second worker only added wake-ups and work stealing
/// between the two (bench/NOTES.md: more CPU per call).
fn worker_threads(cores: usize) -> usize {
    cores.saturating_sub(1).clamp(1, 2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let line = match command_line::parse(&args, &|k| std::env::var(k).ok()) {
        Ok(Command::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(line)) => *line,
        Err(msg) => {
            eprintln!("wx-cloud-emulator: {msg}\n(wx-cloud-emulator --help for usage)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(warning) = line.warning() {
        eprintln!("wx-cloud-emulator: {warning}");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads(cores))
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
        let emu = match Emulator::start(line.options.clone()).await {
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
        let banner = command_line::banner(&line.options, &line.sources, &Listening::of(&emu));
        println!("{}", banner.join("\n"));
        stopped.await;
        emu.close().await;
        ExitCode::SUCCESS
    })
}
