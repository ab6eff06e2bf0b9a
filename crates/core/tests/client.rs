//! The public Rust API against the emulator: the account of a call
//! (`for_appid`), media params (`call_with_media`) and keys as given
//! (`without_case_conversion`), in the cloud call and the HTTPS mode.

use serde_json::json;
use wx_cloud_core::{Answer, Client, MediaFile};
use wx_cloud_emulator::{Emulator, EmulatorOptions};

fn png() -> MediaFile {
    MediaFile {
        content_type: "image/png".into(),
        file_name: Some("photo.png".into()),
        data: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    }
}

fn https_client(emu: &Emulator) -> Client {
    Client::from_options(json!({
        "appid": "wx0emulatorapp0001",
        "secret": "emulator-app-secret",
        "apiBaseUrl": emu.https_base_url(),
        "processEnv": {},
    }))
    .unwrap()
}

/// The account the emulator created the environment of `made` in.
fn account_of(emu: &Emulator, made: &serde_json::Value) -> String {
    let envid = made["envid"].as_str().expect("an envid");
    let record = emu.environments().into_iter().find(|e| e.env == envid);
    record.expect("the environment in the emulator").account
}

fn json_of(a: Answer) -> serde_json::Value {
    a.json().cloned().expect("a JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_params_go_in_both_modes_and_keys_stay_as_given_when_asked() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let cloud = Client::with_env(json!({}), emu.cloud_env()).unwrap();
    let https = https_client(&emu);
    for client in [&cloud, &https] {
        let r = json_of(
            client
                .call_with_media(
                    "customerServiceMessage.uploadTempMedia",
                    json!({ "type": "image" }),
                    vec![("media".into(), png())],
                )
                .await
                .unwrap(),
        );
        assert!(r["mediaId"].is_string(), "{r}");
        assert_eq!(
            r["errMsg"],
            "openapi.customerServiceMessage.uploadTempMedia:ok"
        );
        let raw = json_of(
            client
                .without_case_conversion()
                .call_with_media(
                    "security.imgSecCheck",
                    json!({}),
                    vec![("media".into(), png())],
                )
                .await
                .unwrap(),
        );
        assert_eq!(raw["errCode"], 0, "{raw}");
        let upload = json_of(
            client
                .without_case_conversion()
                .call_with_media(
                    "customerServiceMessage.uploadTempMedia",
                    json!({ "type": "image" }),
                    vec![("media".into(), png())],
                )
                .await
                .unwrap(),
        );
        assert!(upload["media_id"].is_string(), "{upload}");
    }
    // A media param needs an object to sit in.
    let e = cloud
        .call_with_media(
            "security.imgSecCheck",
            json!([1]),
            vec![("media".into(), png())],
        )
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), -501007);
    assert!(
        e.err_msg()
            .starts_with("openapi.security.imgSecCheck:fail "),
        "{}",
        e.err_msg()
    );
    // A params string that looks like a marker stays a string.
    let r = json_of(
        cloud
            .call_with_media(
                "customerServiceMessage.uploadTempMedia",
                json!({ "type": "image", "note": "\u{0}0000000000000000m0" }),
                vec![("media".into(), png())],
            )
            .await
            .unwrap(),
    );
    assert!(r["mediaId"].is_string(), "{r}");
    emu.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_appid_picks_the_account_or_rejects_naming_it() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let params = json!({ "type": "CreatePostpayPackage", "alias": "acct" });
    // Cloud call: the gateway creates the environment in that account.
    let cloud = Client::with_env(json!({}), emu.cloud_env()).unwrap();
    let made = json_of(
        cloud
            .for_appid("wxother000000001")
            .call("tcb.createenvandresource", params.clone())
            .await
            .unwrap(),
    );
    assert_eq!(account_of(&emu, &made), "wxother000000001");
    // HTTPS with one app's credentials: another account is refused, never
    // served with this app's token.
    let https = https_client(&emu);
    let before = emu.environments().len();
    let e = https
        .for_appid("wxother000000001")
        .call("tcb.createenvandresource", params.clone())
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), -501007);
    assert!(e.err_msg().contains("appid"), "{}", e.err_msg());
    assert_eq!(emu.environments().len(), before);
    // Its own appid is fine.
    let own = json_of(
        https
            .for_appid("wx0emulatorapp0001")
            .call("tcb.createenvandresource", params)
            .await
            .unwrap(),
    );
    assert_eq!(account_of(&emu, &own), "wx0emulatorapp0001");
    emu.close().await;
}

/// The public client's errors say what kind of failure they are, and so
/// whether the call may have executed: the drop after processing created an
/// environment (may have executed), the busy answer and the refused
/// connection did not.
#[tokio::test]
async fn public_errors_carry_their_kind() {
    use wx_cloud_core::ErrorKind;
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let client = Client::with_env(json!({ "timeout": 10000 }), emu.cloud_env()).unwrap();
    let params = || json!({ "type": "CreatePostpayPackage", "alias": "kinds" });
    let api = "tcb.createenvandresource";
    for (spec, kind, executed, created) in [
        (
            json!({"api": api, "kind": "drop_after", "times": 1}),
            ErrorKind::Transport,
            true,
            1,
        ),
        (
            json!({"api": api, "kind": "errcode", "errcode": -1000, "times": 1}),
            ErrorKind::Busy,
            true,
            1,
        ),
        (
            json!({"api": api, "kind": "errcode", "errcode": 40001, "times": 1}),
            ErrorKind::TokenRejected,
            false,
            1,
        ),
        (
            json!({"api": api, "kind": "status", "status": 503, "times": 1}),
            ErrorKind::Http,
            true,
            1,
        ),
        (
            json!({"api": api, "kind": "malformed", "times": 1}),
            ErrorKind::BadAnswer,
            true,
            2,
        ),
    ] {
        emu.inject_fault(wx_cloud_emulator::FaultSpec::from_json(spec.clone()).unwrap())
            .unwrap();
        let e = client.call(api, params()).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.may_have_executed()),
            (kind, executed),
            "{spec}"
        );
        assert_eq!(emu.environments().len(), created, "{spec}");
    }
    let port = emu.port();
    let env = emu.cloud_env();
    emu.close().await;
    // The emulator is gone: its port refuses connections.
    let e = Client::with_env(json!({ "timeout": 10000 }), env)
        .unwrap()
        .call(api, params())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.may_have_executed()),
        (ErrorKind::Connect, false),
        "port {port}"
    );
    assert_eq!(e.err_code(), -501001);
}

/// Errors of the Rust API name what a Rust caller sets (`Client::from_options`,
/// `client.for_appid`), never the Node package's `init({ … })` or `openapi({ appid })`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_rust_api_not_init() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let params = json!({ "type": "CreatePostpayPackage", "alias": "words" });
    let no_js = |msg: &str| {
        assert!(!msg.contains("init("), "{msg}");
        assert!(!msg.contains("openapi({"), "{msg}");
        assert!(!msg.contains("cloudEnv()"), "{msg}");
    };
    let platform = json!({
        "componentAppid": "wx0emulatorcomp001",
        "componentAppsecret": "emulator-component-secret",
        "apiBaseUrl": emu.https_base_url(),
        "processEnv": {},
    });
    // (the client, the errCode, what the message tells a Rust caller to do)
    let cases = [
        // No credentials at all.
        (
            Client::from_options(json!({ "processEnv": {} })).unwrap(),
            -501006,
            "give \"secretId\" and \"secretKey\" to Client::from_options",
        ),
        // The cloud call without the secret pair.
        (
            Client::from_options(json!({ "mode": "cloud", "processEnv": {} })).unwrap(),
            -501006,
            "an emulator's cloud_env() as the option processEnv",
        ),
        // Another account than the app's.
        (
            https_client(&emu).for_appid("wxother000000001"),
            -501007,
            "client.for_appid(\"wxother000000001\") was called",
        ),
        // Managed third-party without an authorizer.
        (
            Client::from_options(platform).unwrap(),
            -501007,
            "call client.for_appid(authorizer_appid)",
        ),
    ];
    for (client, code, says) in cases {
        let e = client
            .call("tcb.createenvandresource", params.clone())
            .await
            .unwrap_err();
        assert_eq!(e.err_code(), code, "{e}");
        assert!(e.err_msg().contains(says), "{e}");
        no_js(e.err_msg());
    }
    emu.close().await;
}
