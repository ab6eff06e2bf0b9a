//! The HTTPS and third-party flows against the in-process emulator (a
//! hyper/tokio server on 127.0.0.1): single-flight renewal, renewal across
//! expiry, drop-only-if-same, rotated refresh tokens, faults.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use serde_json::{json, Value};

// The core's HTTPS flows, tested here against the emulator (a test of the
// core itself cannot use it: the emulator depends on the core).
use emulator::{Emulator, EmulatorOptions, FaultSpec};
use wx_cloud_core::https::component::{HookFuture, Hooks};
use wx_cloud_core::https::*;
use wx_cloud_core::{
    cloud::answer::Success, cloud::request::CallInput, env::Context, error::ApiError,
    options::Config,
};
use wx_cloud_core::{error, mode, options};
use wx_cloud_core::{error::INVALID_COMMON_PARAM, options::Supplied};
use wx_cloud_emulator as emulator;

const APPID: &str = "wx0emulatorapp0001";
const SECRET: &str = "emulator-app-secret";

async fn emulator(lifetime: u64) -> Emulator {
    Emulator::start(EmulatorOptions {
        token_lifetime_secs: lifetime,
        ..EmulatorOptions::default()
    })
    .await
    .unwrap()
}

/// An emulator that replaces the authorizer refresh token on every renewal
/// (`rotate_refresh_tokens`), for the tests of the rotation hook.
async fn rotating_emulator() -> Emulator {
    Emulator::start(EmulatorOptions {
        rotate_refresh_tokens: true,
        ..EmulatorOptions::default()
    })
    .await
    .unwrap()
}

fn config(emu: &Emulator, extra: Value) -> Config {
    let mut v = json!({ "apiBaseUrl": emu.https_base_url(), "timeout": 10000 });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    Config::from_value(&v).unwrap()
}

fn input(alias: &str) -> CallInput {
    CallInput {
        api: "tcb.createenvandresource".into(),
        params_json: Some(format!(
            r#"{{"type":"CreatePostpayPackage","alias":"{alias}"}}"#
        )),
        convert_case: true,
        ..CallInput::default()
    }
}

fn app() -> Auth {
    Auth::App {
        appid: APPID.into(),
        secret: SECRET.into(),
    }
}

fn issued(emu: &Emulator, kind: &str) -> u64 {
    emu.stats()["tokensIssued"][kind].as_u64().unwrap_or(0)
}

fn fault(v: Value) -> FaultSpec {
    FaultSpec::from_json(v).unwrap()
}

async fn call_app(cfg: &Config, alias: &str) -> (Result<Success, ApiError>, HttpsReport) {
    let mut r = HttpsReport::default();
    let res = call(
        cfg,
        &Context::default(),
        &input(alias),
        &app(),
        None,
        None,
        &mut r,
    )
    .await;
    (res, r)
}

fn envid(r: &Result<Success, ApiError>) -> String {
    match r {
        Ok(Success::Json(t)) => {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(v["errMsg"], "openapi.tcb.createenvandresource:ok");
            assert_eq!(v["errCode"], 0);
            v["envid"].as_str().unwrap().to_string()
        }
        other => panic!("{:?}", other.as_ref().err()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_cause_one_token_request() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({}));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(async move {
            call_app(&cfg, &format!("e{i}")).await
        }));
    }
    for t in tasks {
        let (r, rep) = t.await.unwrap();
        envid(&r);
        assert_eq!(rep.sends, 1);
    }
    assert_eq!(issued(&emu, "stable"), 1);
    assert_eq!(emu.environments().len(), 200);
    emu.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_succeeding_across_expiry_and_an_expired_token_is_renewed_once() {
    let emu = emulator(3).await;
    let cfg = config(&emu, json!({}));
    let deadline = std::time::Instant::now() + Duration::from_millis(4500);
    let mut n = 0;
    while std::time::Instant::now() < deadline {
        envid(&call_app(&cfg, &format!("a{n}")).await.0);
        n += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(issued(&emu, "stable") >= 2, "{}", emu.stats());
    // Let the token expire, then start many calls at once.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let before = issued(&emu, "stable");
    let mut tasks = Vec::new();
    for i in 0..100 {
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(async move {
            call_app(&cfg, &format!("b{i}")).await
        }));
    }
    for t in tasks {
        envid(&t.await.unwrap().0);
    }
    assert_eq!(issued(&emu, "stable") - before, 1);
    emu.close().await;
}

#[tokio::test]
async fn a_token_error_renews_and_retries_once() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({}));
    envid(&call_app(&cfg, "first").await.0);
    // WeChat says "expired" once: the token is dropped, the stable endpoint
    // hands the same one back, so it is force-refreshed; the call is retried.
    emu.inject_fault(fault(json!({"api":"tcb.createenvandresource","kind":"errcode","errcode":42001,"errmsg":"access_token expired","times":1})))
        .unwrap();
    let (r, rep) = call_app(&cfg, "second").await;
    envid(&r);
    assert_eq!(rep.sends, 2);
    assert_eq!(issued(&emu, "stable"), 2);
    // Twice in a row: the second rejection surfaces.
    emu.inject_fault(fault(json!({"api":"tcb.createenvandresource","kind":"errcode","errcode":40001,"errmsg":"invalid credential","times":2})))
        .unwrap();
    let (r, rep) = call_app(&cfg, "third").await;
    let e = r.unwrap_err();
    assert_eq!(e.err_code, 40001);
    assert_eq!(
        e.err_msg,
        "openapi.tcb.createenvandresource:fail invalid credential"
    );
    assert_eq!(rep.sends, 2);
    assert_eq!(emu.environments().len(), 2);
    emu.close().await;
}

#[tokio::test]
async fn supplied_tokens_are_reported_rejected_not_retried() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({}));
    let mut r = HttpsReport::default();
    let auth = Auth::Supplied(Supplied::Value("NOT-A-TOKEN".into()));
    let e = call(
        &cfg,
        &Context::default(),
        &input("x"),
        &auth,
        None,
        None,
        &mut r,
    )
    .await
    .unwrap_err();
    assert_eq!(e.err_code, 40014);
    assert!(r.token_rejected);
    assert_eq!(r.sends, 1);
    assert!(!e.message().contains("NOT-A-TOKEN"));
    emu.close().await;
}

#[tokio::test]
async fn classic_tokens_and_wrong_secrets() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({"tokenKind":"classic"}));
    envid(&call_app(&cfg, "c1").await.0);
    assert_eq!(issued(&emu, "classic"), 1);
    let mut r = HttpsReport::default();
    let bad = Auth::App {
        appid: APPID.into(),
        secret: "WRONG-SECRET-VALUE".into(),
    };
    for kind in ["classic", "stable"] {
        let cfg = config(&emu, json!({ "tokenKind": kind }));
        let e = call(
            &cfg,
            &Context::default(),
            &input("c2"),
            &bad,
            None,
            None,
            &mut r,
        )
        .await
        .unwrap_err();
        assert_eq!(e.err_code, 40125, "{}", e.err_msg);
        assert!(
            e.err_msg.contains("cannot get access_token"),
            "{}",
            e.err_msg
        );
        assert!(!e.message().contains("WRONG-SECRET-VALUE"));
    }
    emu.close().await;
}

#[tokio::test]
async fn a_dropped_answer_is_not_retried_and_creates_one_environment() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({}));
    emu.inject_fault(fault(
        json!({"api":"tcb.createenvandresource","kind":"drop_after","times":1}),
    ))
    .unwrap();
    let (r, rep) = call_app(&cfg, "dropped").await;
    let e = r.unwrap_err();
    assert_eq!(e.err_code, crate::error::TCB_SYS_ERR);
    assert!(e.err_msg.contains("access_token=***"), "{}", e.err_msg);
    assert_eq!(rep.sends, 1);
    assert_eq!(emu.environments().len(), 1);
    emu.close().await;
}

#[tokio::test]
async fn busy_answers_are_retried_only_with_on_busy() {
    let emu = emulator(7200).await;
    let busy =
        || fault(json!({"api":"tcb.createenvandresource","kind":"errcode","errcode":-1,"times":1}));
    let cfg = config(&emu, json!({"appid": APPID, "secret": SECRET}));
    emu.inject_fault(busy()).unwrap();
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &input("b0"), None, None).await;
    assert_eq!(r.unwrap_err().err_code, -1);
    assert_eq!((rep.mode, rep.sends, rep.busy_retries), ("https", 1, 0));
    let cfg = config(
        &emu,
        json!({"appid": APPID, "secret": SECRET, "retry": {"onBusy": 2}}),
    );
    emu.inject_fault(busy()).unwrap();
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &input("b1"), None, None).await;
    envid(&r);
    assert_eq!((rep.sends, rep.busy_retries), (2, 1));
    emu.close().await;
}

/// Hooks that count what they are asked.
#[derive(Default)]
struct TestHooks {
    tickets: AtomicU64,
    rotated: StdMutex<Vec<String>>,
    fail_delivery: AtomicU64,
}

/// The hooks as the core holds them (a local type: `Hooks` is the core's).
#[derive(Clone)]
struct Shared(std::sync::Arc<TestHooks>);

impl std::ops::Deref for Shared {
    type Target = TestHooks;
    fn deref(&self) -> &TestHooks {
        &self.0
    }
}

impl Hooks for Shared {
    fn verify_ticket(&self) -> HookFuture<Result<String, String>> {
        self.tickets.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok("ticket@@@test".to_string()) })
    }
    fn refresh_token_rotated(&self, token: String) -> HookFuture<Result<(), String>> {
        let me = self.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if me.fail_delivery.load(Ordering::SeqCst) > 0 {
                me.fail_delivery.fetch_sub(1, Ordering::SeqCst);
                return Err(format!("store down (token {token})"));
            }
            me.rotated.lock().unwrap().push(token);
            Ok(())
        })
    }
}

fn third_party_config(emu: &Emulator) -> Config {
    let f = json!({ crate::options::FUNCTION_MARKER: true });
    config(
        emu,
        json!({
            "componentAppid": "wx0emulatorcomp001",
            "componentAppsecret": "emulator-component-secret",
            "getComponentVerifyTicket": f,
            "authorizerAppid": "wx0emulatorauth001",
            "authorizerRefreshToken": "emulator-refresh-token",
            "onAuthorizerRefreshToken": f,
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_delivered_once_before_calls_go_on() {
    let emu = rotating_emulator().await;
    let cfg = third_party_config(&emu);
    let hooks = std::sync::Arc::new(TestHooks::default());
    let dyn_hooks: std::sync::Arc<dyn Hooks> = std::sync::Arc::new(Shared(hooks.clone()));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (cfg, h, hooks) = (cfg.clone(), dyn_hooks.clone(), hooks.clone());
        tasks.push(tokio::spawn(async move {
            let (r, rep) = crate::mode::run(
                &cfg,
                &Context::default(),
                &input(&format!("t{i}")),
                None,
                Some(&h),
            )
            .await;
            // by the time any call finishes, the new refresh token is stored
            assert_eq!(hooks.rotated.lock().unwrap().len(), 1);
            (r, rep)
        }));
    }
    for t in tasks {
        let (r, rep) = t.await.unwrap();
        envid(&r);
        assert_eq!(rep.mode, "thirdparty");
    }
    assert_eq!(hooks.rotated.lock().unwrap().len(), 1);
    assert!(hooks.rotated.lock().unwrap()[0].starts_with("refreshtoken@@@"));
    assert_eq!(hooks.tickets.load(Ordering::SeqCst), 1);
    assert_eq!(issued(&emu, "authorizer"), 1);
    assert_eq!(issued(&emu, "component"), 1);
    emu.close().await;
}

#[tokio::test]
async fn a_failed_delivery_fails_the_call_and_is_offered_again() {
    let emu = rotating_emulator().await;
    let cfg = third_party_config(&emu);
    let hooks = std::sync::Arc::new(TestHooks::default());
    hooks.fail_delivery.store(1, Ordering::SeqCst);
    let h: std::sync::Arc<dyn Hooks> = std::sync::Arc::new(Shared(hooks.clone()));
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &input("f1"), None, Some(&h)).await;
    let e = r.unwrap_err();
    assert!(
        e.err_msg
            .contains("onAuthorizerRefreshToken failed: store down (token ***)"),
        "{}",
        e.err_msg
    );
    assert_eq!(rep.sends, 0);
    let (r, _) = crate::mode::run(&cfg, &Context::default(), &input("f2"), None, Some(&h)).await;
    envid(&r);
    assert_eq!(hooks.rotated.lock().unwrap().len(), 1);
    assert_eq!(issued(&emu, "authorizer"), 1);
    assert_eq!(emu.environments().len(), 1);
    emu.close().await;
}

/// Hooks that never settle (a user callback awaiting something that never comes).
struct HangingHooks {
    ticket: bool,
}

impl Hooks for HangingHooks {
    fn verify_ticket(&self) -> HookFuture<Result<String, String>> {
        if self.ticket {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async { Ok("ticket@@@test".to_string()) })
        }
    }
    fn refresh_token_rotated(&self, _token: String) -> HookFuture<Result<(), String>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn callbacks_that_never_settle_fail_the_call_within_its_timeout() {
    for ticket in [true, false] {
        let emu = rotating_emulator().await;
        let mut cfg = third_party_config(&emu);
        cfg.timeout = Duration::from_millis(300);
        let h: std::sync::Arc<dyn Hooks> = std::sync::Arc::new(HangingHooks { ticket });
        let started = std::time::Instant::now();
        let (r, rep) = tokio::time::timeout(
            Duration::from_secs(5),
            crate::mode::run(&cfg, &Context::default(), &input("h"), None, Some(&h)),
        )
        .await
        .expect("the call settles");
        assert!(started.elapsed() < Duration::from_millis(1300));
        let e = r.unwrap_err();
        let (name, verb) = if ticket {
            ("getComponentVerifyTicket", "return")
        } else {
            ("onAuthorizerRefreshToken", "finish")
        };
        assert_eq!(e.err_code, INVALID_COMMON_PARAM);
        assert!(
            e.err_msg
                .contains(&format!("{name} failed: it did not {verb} within 300 ms")),
            "{}",
            e.err_msg
        );
        assert_eq!(rep.sends, 0);
        emu.close().await;
    }
}

#[tokio::test]
async fn a_token_too_long_to_send_is_an_invalid_parameter_naming_it() {
    // A URL longer than 65534 bytes cannot be sent (http::Uri refuses it):
    // nothing leaves, so it is no "connection failed".
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({ "accessToken": "given" }));
    let long = "T".repeat(70 * 1024);
    for (auth, name) in [
        (Auth::Supplied(Supplied::Value(long.clone())), "accessToken"),
        (Auth::Supplied(Supplied::Function), "accessToken"),
    ] {
        let mut r = HttpsReport::default();
        let e = call(
            &cfg,
            &Context::default(),
            &input("long"),
            &auth,
            Some(&long),
            None,
            &mut r,
        )
        .await
        .unwrap_err();
        assert_eq!(e.err_code, crate::error::INVALID_PARAM, "{}", e.err_msg);
        assert!(e.err_msg.contains(name), "{}", e.err_msg);
        assert!(!e.err_msg.contains("connection failed"), "{}", e.err_msg);
        assert!(!e.err_msg.contains("TTTT"), "{}", e.err_msg);
        assert_eq!(r.sends, 0);
    }
    emu.close().await;
}

#[tokio::test]
async fn a_password_in_the_api_base_url_never_reaches_a_message() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://user:PASSW0RD@127.0.0.1:{port}");
    let cfg = Config::from_value(&json!({ "apiBaseUrl": base, "timeout": 5000 })).unwrap();
    let env = Context::from_pairs([("WX_API_BASE_URL", base.as_str())]);
    let no_base = Config::from_value(&json!({ "timeout": 5000 })).unwrap();
    for (cfg, ctx) in [(&cfg, Context::default()), (&no_base, env)] {
        for auth in [app(), Auth::Supplied(Supplied::Value("tok".into()))] {
            let mut r = HttpsReport::default();
            let e = call(cfg, &ctx, &input("pw"), &auth, None, None, &mut r)
                .await
                .unwrap_err();
            assert!(!e.err_msg.contains("PASSW0RD"), "{}", e.err_msg);
            assert!(e.err_msg.contains("***@127.0.0.1"), "{}", e.err_msg);
        }
    }
}
