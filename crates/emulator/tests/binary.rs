//! The `wx-cloud-emulator` program, run as a test suite in another language
//! would run it: started with no Node on the path, driven with curl.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wx-cloud-emulator");

/// The program with an empty environment whose PATH finds nothing, so no
/// Node either.
fn program() -> Command {
    let mut c = Command::new(BIN);
    c.env_clear().env("PATH", "/nonexistent");
    c
}

/// `curl` with these arguments; its stdout as JSON.
fn curl(args: &[&str]) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("a JSON answer")
}

/// Stops the child on every path out of the test.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_works_without_node() {
    let out = program().arg("--help").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // The full list is compared with the CLI's in __test__/emulator-binary.test.js.
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Usage: wx-cloud-emulator"), "{text}");
    assert!(text.contains("--port N"), "{text}");
}

#[test]
fn a_usage_error_exits_2_naming_the_option() {
    let out = program().arg("--nope").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --nope"));
}

#[test]
fn curl_creates_an_environment_through_the_program() {
    let data =
        std::env::temp_dir().join(format!("wx-cloud-emulator-bin-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&data);
    let mut child = program()
        .args(["--port", "0", "--env-id", "curl-env", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut running = Running(child);
    // The first line names the URL; it is printed once the port listens.
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("# wx-cloud-openapi emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("# WeChat API base URL"), "{second}");
    // Then the credentials a WeChat client must use (as cli.js prints
    // them), then the export lines.
    let mut comments = Vec::new();
    let third = loop {
        let line = lines.next().unwrap().unwrap();
        if !line.starts_with("# ") {
            break line;
        }
        comments.push(line);
    };
    assert!(third.starts_with("export "), "{third}");
    assert!(
        comments
            .iter()
            .any(|l| l == "# app: appid wx0emulatorapp0001, secret emulator-app-secret"),
        "{comments:?}"
    );

    let token = curl(&[&format!(
        "{url}/cgi-bin/token?grant_type=client_credential&appid=wx0emulatorapp0001&secret=emulator-app-secret"
    )]);
    let token = token["access_token"].as_str().expect("a token").to_string();
    let created = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"type":"CreatePostpayPackage","alias":"from-curl"}"#,
        &format!("{url}/tcb/createenvandresource?access_token={token}"),
    ]);
    assert_eq!(created["errcode"], 0, "{created}");
    let envid = created["envid"].as_str().expect("an envid").to_string();
    assert!(envid.starts_with("from-curl-"), "{envid}");
    // Durable: in the data file before the answer came back.
    let saved = std::fs::read_to_string(&data).unwrap();
    assert!(saved.contains(&envid), "{saved}");

    // SIGTERM stops it with status 0.
    let pid = running.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = running.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let _ = std::fs::remove_file(&data);
    // and the lock file the program keeps beside it
    let _ = std::fs::remove_file(data.with_file_name(format!(
        ".wx-cloud-emulator-bin-{}.json.lock",
        std::process::id()
    )));
}
