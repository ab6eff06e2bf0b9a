//! The control API (`/__emulator/*`) over loopback, as a test in another
//! language drives it: authorize, revoke, push a ticket, faults,
//! environments, stats; errors as `{"error"}` with a 4xx/5xx status and no
//! secret in them.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wx_cloud_emulator::{Emulator, EmulatorOptions, PushOptions};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const URL_PASSWORD: &str = "HUSH-url-password";

struct Client {
    http: wx_cloud_core::wire::Client,
    base: String,
}

impl Client {
    fn of(emu: &Emulator) -> Client {
        Client {
            http: wx_cloud_core::wire::client_for(None)
                .map_err(|e| e.describe())
                .unwrap(),
            base: emu.url(),
        }
    }

    /// `method path body` → (status, JSON answer).
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = http::Method::from_bytes(method.as_bytes()).unwrap();
        let (ct, body) = match body {
            Some(b) => (Some("application/json"), bytes::Bytes::from(b.to_string())),
            None => (None, bytes::Bytes::new()),
        };
        let url = format!("{}{path}", self.base);
        let resp = wx_cloud_core::wire::send_body(&self.http, method, &url, ct, body)
            .await
            .unwrap();
        let status = resp.status;
        let ct = resp.content_type;
        let text = String::from_utf8(resp.body.to_vec()).unwrap();
        assert!(ct.starts_with("application/json"), "{ct}: {text}");
        (status, serde_json::from_str(&text).unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_drive_the_emulator() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let c = Client::of(&emu);

    let (s, v) = c.get("/__emulator/").await;
    assert_eq!(s, 200);
    assert_eq!(v["routes"].as_array().unwrap().len(), 7, "{v}");

    // Authorize: no event URL, so nothing is pushed; the same state as the methods'.
    let (s, v) = c
        .post(
            "/__emulator/authorize",
            json!({ "authorizerAppid": "wxctl0001" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["infoType"], "authorized");
    assert_eq!(v["pushed"], false);
    assert_eq!(v["pushError"], Value::Null);
    assert!(v["expiresAt"].as_u64().unwrap() > 0);
    let code = v["authorizationCode"].as_str().unwrap().to_string();
    assert!(!code.is_empty());
    assert!(emu.authorizers().contains(&"wxctl0001".to_string()));
    // The code is one api_query_auth exchanges.
    let (_, t) = c
        .post(
            "/cgi-bin/component/api_component_token",
            json!({
                "component_appid": "wx0emulatorcomp001",
                "component_appsecret": "emulator-component-secret",
                "component_verify_ticket": "t",
            }),
        )
        .await;
    let ct = t["component_access_token"].as_str().unwrap();
    let (_, q) = c
        .post(
            &format!("/cgi-bin/component/api_query_auth?component_access_token={ct}"),
            json!({ "component_appid": "wx0emulatorcomp001", "authorization_code": code }),
        )
        .await;
    assert_eq!(
        q["authorization_info"]["authorizer_appid"], "wxctl0001",
        "{q}"
    );
    let (_, v) = c
        .post(
            "/__emulator/authorize",
            json!({ "authorizerAppid": "wxctl0001" }),
        )
        .await;
    assert_eq!(v["infoType"], "updateauthorized");

    // Revoke: true once, then false.
    let (s, v) = c
        .post(
            "/__emulator/revoke",
            json!({ "authorizerAppid": "wxctl0001" }),
        )
        .await;
    assert_eq!((s, v["revoked"].clone()), (200, json!(true)), "{v}");
    assert!(!emu.authorizers().contains(&"wxctl0001".to_string()));
    let (s, v) = c
        .post(
            "/__emulator/revoke",
            json!({ "authorizerAppid": "wxctl0001" }),
        )
        .await;
    assert_eq!((s, v["revoked"].clone()), (200, json!(false)), "{v}");

    // Bad bodies, routes and methods.
    for (path, body) in [
        ("/__emulator/authorize", json!({})),
        ("/__emulator/authorize", json!({ "authorizerAppid": "" })),
        ("/__emulator/revoke", json!({ "appid": "wxctl0001" })),
    ] {
        let (s, v) = c.post(path, body).await;
        assert_eq!(s, 400, "{path} {v}");
        assert!(v["error"].as_str().unwrap().contains("authorizerAppid"));
    }
    let (s, v) = c.send("POST", "/__emulator/authorize", None).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = c.get("/__emulator/authorize").await;
    assert_eq!(s, 405, "{v}");
    assert!(v["error"].as_str().unwrap().contains("takes POST"), "{v}");
    let (s, v) = c.get("/__emulator/nope").await;
    assert_eq!(s, 404, "{v}");
    // No event URL: a ticket cannot be pushed.
    let (s, v) = c.post("/__emulator/push-ticket", json!({})).await;
    assert_eq!(s, 409, "{v}");

    emu.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_stats_and_environments() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let c = Client::of(&emu);

    // A misspelt API is refused (it would never fire), over HTTP and from Rust.
    let typo = json!({ "api": "tcb.createenvandresourc", "kind": "errcode", "times": 1 });
    let (s, v) = c.post("/__emulator/faults", typo.clone()).await;
    assert_eq!(s, 400, "{v}");
    let e = v["error"].as_str().unwrap();
    assert!(
        e.contains("\"tcb.createenvandresourc\" is not an API"),
        "{e}"
    );
    let spec = wx_cloud_emulator::FaultSpec::from_json(typo).unwrap();
    assert!(emu.inject_fault(spec).is_err());
    // An invalid spec: serde's message.
    let (s, v) = c
        .post("/__emulator/faults", json!({ "kind": "explode" }))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid fault spec"));
    assert_eq!(emu.stats()["activeFaults"], 0);

    // One errcode on the token endpoint, then a token.
    let (s, v) = c
        .post(
            "/__emulator/faults",
            json!({ "api": "cgi-bin.token", "kind": "errcode", "errcode": -1, "times": 1 }),
        )
        .await;
    assert_eq!((s, v), (200, json!({ "activeFaults": 1 })));
    let token_path =
        "/cgi-bin/token?grant_type=client_credential&appid=wx0emulatorapp0001&secret=emulator-app-secret";
    let (_, v) = c.get(token_path).await;
    assert_eq!(v["errcode"], -1, "{v}");
    let (_, v) = c.get(token_path).await;
    let token = v["access_token"].as_str().unwrap().to_string();

    // A fault left active, then removed.
    let (s, _) = c
        .post(
            "/__emulator/faults",
            json!({ "api": "tcb.describeenvs", "kind": "status", "delayMs": null }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = c.send("DELETE", "/__emulator/faults", None).await;
    assert_eq!((s, v), (200, json!({ "activeFaults": 0 })));

    // An environment created over HTTPS is listed.
    let (_, v) = c
        .post(
            &format!("/tcb/createenvandresource?access_token={token}"),
            json!({ "type": "CreatePostpayPackage", "alias": "ctl" }),
        )
        .await;
    let envid = v["envid"].as_str().unwrap().to_string();
    let (s, v) = c.get("/__emulator/environments").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["env"], envid.as_str());
    assert_eq!(v[0]["alias"], "ctl");
    assert_eq!(v[0]["createdVia"], "https");
    assert_eq!(v[0]["status"], "NORMAL");
    assert!(v[0]["createTime"].as_i64().unwrap() > 0);

    let (s, v) = c.get("/__emulator/stats").await;
    assert_eq!(s, 200);
    assert_eq!(v["calls"]["https:cgi-bin.token"], 2, "{v}");
    assert_eq!(v["tokensIssued"].as_object().unwrap().len(), 1, "{v}");
    assert_eq!(
        v["tokensIssued"].as_object().unwrap().values().next(),
        Some(&json!(1))
    );
    assert_eq!(v["faultsFired"], 1);
    assert_eq!(v["environments"], 1);
    assert_eq!(v["activeFaults"], 0);
    assert_eq!(v, emu.stats());
    emu.close().await;
}

/// A platform answering `success` to every push until the task is aborted
/// (then the port refuses); counts the pushes.
async fn platform() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n = count.clone();
    let task = tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let n = n.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let k = s.read(&mut chunk).await.unwrap_or(0);
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if buf.len() >= i + 4 + len {
                        break;
                    }
                }
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nsuccess",
                    )
                    .await;
            });
        }
    });
    (
        format!("http://platform:{URL_PASSWORD}@{addr}/events"),
        count,
        task,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_through_the_control_api_and_errors_hide_the_password() {
    let (url, pushes, task) = platform().await;
    let emu = Emulator::start(EmulatorOptions {
        component_events: Some(PushOptions {
            url,
            token: "HUSH-token".into(),
            encoding_aes_key: KEY.into(),
        }),
        ticket_interval: std::time::Duration::ZERO,
        ..EmulatorOptions::default()
    })
    .await
    .unwrap();
    let c = Client::of(&emu);
    let used = std::sync::atomic::Ordering::SeqCst;

    let (s, v) = c.post("/__emulator/push-ticket", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["componentVerifyTicket"]
        .as_str()
        .unwrap()
        .starts_with("ticket@@@"));
    assert_eq!(pushes.load(used), 1);
    let (s, v) = c
        .post(
            "/__emulator/authorize",
            json!({ "authorizerAppid": "wxctl0002" }),
        )
        .await;
    assert_eq!((s, v["pushed"].clone()), (200, json!(true)), "{v}");
    assert_eq!(pushes.load(used), 2);
    let (s, v) = c
        .post(
            "/__emulator/revoke",
            json!({ "authorizerAppid": "wxctl0002" }),
        )
        .await;
    assert_eq!((s, v["revoked"].clone()), (200, json!(true)), "{v}");
    assert_eq!(pushes.load(used), 3);

    // The platform is gone: the pushes fail, and say so without the password.
    task.abort();
    let _ = task.await;
    let (s, v) = c.post("/__emulator/push-ticket", json!({})).await;
    assert_eq!(s, 502, "{v}");
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("***@127.0.0.1"), "{e}");
    let (s, v) = c
        .post(
            "/__emulator/authorize",
            json!({ "authorizerAppid": "wxctl0003" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["pushed"], false);
    assert!(v["pushError"].as_str().unwrap().contains("***@"), "{v}");
    let (s, r) = c
        .post(
            "/__emulator/revoke",
            json!({ "authorizerAppid": "wxctl0003" }),
        )
        .await;
    assert_eq!(s, 502, "{r}");
    assert!(r["error"]
        .as_str()
        .unwrap()
        .starts_with("wxctl0003 is revoked, but"));
    for answer in [&v, &r] {
        let text = answer.to_string();
        assert!(!text.contains(URL_PASSWORD), "{text}");
        assert!(!text.contains("HUSH-token"), "{text}");
        assert!(!text.contains(KEY), "{text}");
    }
    let stats = emu.stats();
    assert_eq!(
        stats["calls"]["push_failed:component_verify_ticket"], 1,
        "{stats}"
    );
    assert_eq!(stats["calls"]["push_failed:unauthorized"], 1, "{stats}");
    emu.close().await;
}
