//! The HTTPS and third-party flows against the in-process emulator (a
//! hyper/tokio server on 127.0.0.1): single-flight renewal, renewal across
//! expiry, drop-only-if-same, rotated refresh tokens, faults.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::emulator::{Emulator, EmulatorOptions, FaultSpec};
use crate::error;
use crate::https::*;
use crate::mode::https_call as call;
use crate::options::Supplied;
use crate::{
    call::answer::Success, call::input::CallInput, env::Context, error::ApiError, options::Config,
};

const APPID: &str = "wx0emulatorapp0001";
const SECRET: &str = "emulator-app-secret";

/// An emulator whose authorizer refresh tokens rotate on every renewal
/// (`rotate_refresh_tokens`), so the rotation paths are exercised.
async fn emulator(lifetime: u64) -> Emulator {
    Emulator::start(EmulatorOptions {
        token_lifetime_secs: lifetime,
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
    let e = call(&cfg, &Context::default(), &input("x"), &auth, None, &mut r)
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
        let e = call(&cfg, &Context::default(), &input("c2"), &bad, None, &mut r)
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
    assert_eq!(e.err_code, -501001);
    assert_eq!(e.kind, error::ErrorKind::Transport);
    assert!(e.may_have_executed());
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
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &input("b0"), None).await;
    assert_eq!(r.unwrap_err().err_code, -1);
    assert_eq!((rep.mode, rep.sends, rep.busy_retries), ("https", 1, 0));
    let cfg = config(
        &emu,
        json!({"appid": APPID, "secret": SECRET, "retry": {"onBusy": 2}}),
    );
    emu.inject_fault(busy()).unwrap();
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &input("b1"), None).await;
    envid(&r);
    assert_eq!((rep.sends, rep.busy_retries), (2, 1));
    emu.close().await;
}

fn third_party_config(emu: &Emulator) -> Config {
    config(
        emu,
        json!({
            "componentAppid": "wx0emulatorcomp001",
            "componentAppsecret": "emulator-component-secret",
        }),
    )
}

#[tokio::test]
async fn third_party_token_requests_and_a_call_with_the_token() {
    let emu = emulator(7200).await;
    let cfg = third_party_config(&emu);
    let ctx = Context::default();
    let (c, none) = third_party_token(
        &cfg,
        &ctx,
        TokenRequest::Component {
            ticket: "ticket@@@x",
        },
        cfg.timeout(),
    )
    .await
    .unwrap();
    assert!(none.is_none());
    let authorizer = |refresh_token| {
        third_party_token(
            &cfg,
            &ctx,
            TokenRequest::Authorizer {
                component_token: c.token.expose_secret(),
                authorizer_appid: "wx0emulatorauth001",
                refresh_token,
            },
            cfg.timeout(),
        )
    };
    let (a, rotated) = authorizer("emulator-refresh-token").await.unwrap();
    let rotated = rotated.expect("the emulator rotates refresh tokens");
    assert!(rotated.starts_with("refreshtoken@@@"));
    // the old refresh token is refused now: 61023, with nothing secret in the message
    let e = authorizer("emulator-refresh-token").await.unwrap_err();
    assert_eq!(e.err_code, 61023);
    assert!(
        !e.err_msg.contains("emulator-refresh-token"),
        "{}",
        e.err_msg
    );
    assert!(
        !e.err_msg.contains(c.token.expose_secret()),
        "{}",
        e.err_msg
    );
    // the managed mode sends with the token the JavaScript layer obtained
    let (r, rep) = crate::mode::run(&cfg, &ctx, &input("tp1"), Some(a.token.expose_secret())).await;
    envid(&r);
    assert_eq!(rep.mode, "thirdparty");
    let (r, rep) = crate::mode::run(&cfg, &ctx, &input("tp2"), Some("not-a-token")).await;
    assert_eq!(r.unwrap_err().err_code, 40014);
    assert!(rep.token_rejected);
    let envs = emu.environments();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0].account, "wx0emulatorauth001");
    emu.close().await;
}

#[tokio::test]
async fn another_appid_without_its_credentials_is_rejected_naming_appid() {
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({ "appid": APPID, "secret": SECRET }));
    let mut other = input("o1");
    other.appid = Some("wx0someoneelse0001".into());
    let (r, rep) = crate::mode::run(&cfg, &Context::default(), &other, None).await;
    let e = r.unwrap_err();
    assert_eq!(e.err_code, crate::codes::INVALID_PARAM);
    assert!(e.err_msg.contains("option `appid`"), "{}", e.err_msg);
    assert!(e.err_msg.contains("wx0someoneelse0001"), "{}", e.err_msg);
    assert_eq!(rep.sends, 0);
    // the same appid as init()'s is fine, and the environment is in that account
    let mut same = input("o2");
    same.appid = Some(APPID.into());
    let (r, _) = crate::mode::run(&cfg, &Context::default(), &same, None).await;
    envid(&r);
    assert_eq!(emu.environments()[0].account, APPID);
    // a fixed access token string belongs to one unknown account
    let cfg = config(&emu, json!({ "accessToken": "T" }));
    let (r, _) = crate::mode::run(&cfg, &Context::default(), &other, None).await;
    assert!(r.unwrap_err().err_msg.contains("option `appid`"));
    assert_eq!(emu.environments().len(), 1);
    emu.close().await;
}

#[tokio::test]
async fn a_token_too_long_to_send_is_an_invalid_parameter_naming_it() {
    // A URL longer than 65534 bytes cannot be sent (http::Uri refuses it):
    // nothing leaves, so it is no "connection failed".
    let emu = emulator(7200).await;
    let cfg = config(&emu, json!({ "accessToken": "given" }));
    let long = "T".repeat(70 * 1024);
    for (auth, name) in [
        (
            Auth::Supplied(Supplied::Value(long.clone().into())),
            "accessToken",
        ),
        (Auth::Supplied(Supplied::Function), "accessToken"),
    ] {
        let mut r = HttpsReport::default();
        let e = call(
            &cfg,
            &Context::default(),
            &input("long"),
            &auth,
            Some(long.as_str()),
            &mut r,
        )
        .await
        .unwrap_err();
        assert_eq!(e.err_code, crate::codes::INVALID_PARAM, "{}", e.err_msg);
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
            let e = call(cfg, &ctx, &input("pw"), &auth, None, &mut r)
                .await
                .unwrap_err();
            assert!(!e.err_msg.contains("PASSW0RD"), "{}", e.err_msg);
            assert!(e.err_msg.contains("***@127.0.0.1"), "{}", e.err_msg);
        }
    }
}
