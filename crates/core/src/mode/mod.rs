//! Which calling mode a call uses, and running the call in it.
//!
//! 1. An explicit `mode` option wins.
//! 2. Otherwise explicit credentials decide: `accessToken`, or `appid` +
//!    `secret`, pick HTTPS; `authorizerAccessToken`, or the `component*`
//!    set, pick third-party (both kinds at once is an `init()` error).
//! 3. Otherwise a cloud runtime (Tencent Cloud credentials in `init()` or in
//!    the environment, or running on SCF / CloudBase Run / Sumeru) picks the
//!    cloud call, even with `WX_APPID` + `WX_APPSECRET` in the environment
//!    (the platform sets `WX_APPID` for each invocation; an app secret may be
//!    there for other work): the reason says so, and `mode: 'https'` uses them.
//! 4. Otherwise `WX_APPID` + `WX_APPSECRET` in the environment pick HTTPS.
//! 5. With nothing usable the call fails with a `CloudSDKError` listing the
//!    settings that would work.
//!
//! With `retry: { onBusy: n }` a busy answer (-1, -1000) is retried up to
//! n times with exponential backoff and jitter, in every mode; nothing else
//! that may have reached the server is ever retried.

mod explain;
mod run;
mod select;

pub use explain::explain;
pub use run::{run, Report, Token};
pub use select::token_function;

// The HTTPS flows (`https/flows.rs`) call the HTTPS modes below `select`.
#[cfg(test)]
pub(crate) use run::https_call;

#[cfg(test)]
mod tests {
    use super::explain::*;

    use super::select::*;

    use crate::cloud;
    use crate::env::Context;
    use crate::error::Wording;
    use crate::https::Auth;
    use crate::options::{Config, Supplied};

    use crate::codes::INVALID_COMMON_PARAM;
    use crate::error::ErrorClass;

    fn cfg(json: &str) -> Config {
        Config::from_json(json).unwrap()
    }

    #[test]
    fn messages_name_what_the_caller_set_node_or_rust() {
        let node = cfg(r#"{"mode":"https"}"#);
        let rust = Config {
            wording: Wording::Rust,
            ..node.clone()
        };
        let msg = |c: &Config| select(c, &Context::default()).unwrap_err().err_msg;
        // The Node package's text, as the JavaScript tests pin it.
        let n = msg(&node);
        assert!(
            n.contains("mode \"https\" needs init({ appid, secret }), init({ accessToken })"),
            "{n}"
        );
        assert!(n.contains("pass secretId and secretKey to init()"), "{n}");
        // The same failure for a Rust caller names Client::from_options.
        let r = msg(&rust);
        assert!(!r.contains("init("), "{r}");
        assert!(!r.contains("getComponentVerifyTicket"), "{r}");
        assert!(
            r.contains("Client::from_options with \"appid\" and \"secret\""),
            "{r}"
        );
        assert!(r.contains("Client::with_token_store"), "{r}");
        // A reason `explain` gives.
        let scf = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        let both = cfg(r#"{"secretId":"AKIDx","secretKey":"k"}"#);
        let why = |c: &Config| choose(c, &scf).map(|c| c.reason).unwrap();
        assert!(why(&both).starts_with("init() was given `secretId` and `secretKey`"));
        let rust_both = Config {
            wording: Wording::Rust,
            ..both
        };
        let r = why(&rust_both);
        assert!(
            r.starts_with("Client::from_options was given `secretId` and `secretKey`"),
            "{r}"
        );
        assert!(r.contains("the option \"mode\": \"https\""), "{r}");
    }

    #[test]
    fn explicit_mode_wins() {
        let c = cfg(r#"{"mode":"cloud","appid":"wx","secret":"s"}"#);
        assert_eq!(
            select(&c, &Context::default())
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        let c = cfg(r#"{"mode":"https","authorizerAccessToken":"a"}"#);
        let ctx = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert_eq!(
            select(&c, &ctx).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::App {
                appid: "wxe".into(),
                secret: "se".into()
            })
        );
        let err = select(&c, &Context::default())
            .map_err(|e| e.for_api("x"))
            .unwrap_err();
        assert!(
            err.err_msg.contains("mode \"https\" needs"),
            "{}",
            err.err_msg
        );
    }

    #[test]
    fn credentials_pick_the_mode() {
        let scf = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_SECRETID", "id"),
            ("TENCENTCLOUD_SECRETKEY", "key"),
        ]);
        let c = cfg(r#"{"appid":"wx","secret":"s"}"#);
        assert!(matches!(
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::App { .. })
        ));
        let c = cfg(r#"{"accessToken":"T"}"#);
        assert!(matches!(
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::Https(Auth::Supplied(_))
        ));
        let c = Config::from_js("{}", &["authorizerAccessToken".to_string()]).unwrap();
        assert_eq!(
            select(&c, &scf).map_err(|e| e.for_api("x")).unwrap(),
            Route::ThirdParty(Auth::Supplied(Supplied::Function))
        );
        assert_eq!(token_function(&c), Some("authorizerAccessToken"));
        let env = Context::from_pairs([("WX_APPID", "wxe"), ("WX_APPSECRET", "se")]);
        assert!(matches!(
            select(&cfg("{}"), &env)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Https(_)
        ));
        assert_eq!(
            select(&cfg("{}"), &scf)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        let only_id = Context::from_pairs([("TENCENTCLOUD_SECRETID", "id")]);
        assert_eq!(
            select(&cfg("{}"), &only_id)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Cloud
        );
        assert_eq!(
            select(
                &cfg(r#"{"secretId":"a","secretKey":"b"}"#),
                &Context::default()
            )
            .map_err(|e| e.for_api("x"))
            .unwrap(),
            Route::Cloud
        );
    }

    #[test]
    fn nothing_usable_says_what_would_work() {
        let err = select(&cfg("{}"), &Context::default())
            .map_err(|e| e.for_api("openapi.tcb.x"))
            .unwrap_err();
        assert_eq!(err.err_code, INVALID_COMMON_PARAM);
        assert_eq!(err.class, ErrorClass::Cloud);
        for needle in [
            "TENCENTCLOUD_SECRETID",
            "TENCENTCLOUD_SECRETKEY",
            "appid, secret",
            "WX_APPID and WX_APPSECRET",
            "accessToken",
            "authorizerAccessToken",
            "componentAppid",
        ] {
            assert!(err.err_msg.contains(needle), "{needle}: {}", err.err_msg);
        }
        assert!(err.err_msg.starts_with("openapi.tcb.x:fail "));
    }

    /// Options with a function given as `name` (the JavaScript layer's way).
    fn with_function(json: &str, name: &str) -> Config {
        Config::from_js(json, &[name.to_string()]).unwrap()
    }

    #[test]
    fn token_function_follows_the_mode() {
        let c = with_function("{}", "accessToken");
        assert_eq!(token_function(&c), Some("accessToken"));
        let c = with_function(r#"{"mode":"cloud"}"#, "accessToken");
        assert_eq!(token_function(&c), None);
        let c = with_function(
            r#"{"mode":"thirdparty","authorizerAccessToken":"a"}"#,
            "accessToken",
        );
        assert_eq!(token_function(&c), None);
        assert_eq!(token_function(&cfg(r#"{"accessToken":"T"}"#)), None);
    }

    fn shown(e: &Explanation) -> String {
        format!("{e:?}")
    }

    #[test]
    fn explain_tells_the_same_story_as_select() {
        let scf = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "TOPSECRETKEY"),
            ("TENCENTCLOUD_SESSIONTOKEN", "SESSIONTOKENVALUE"),
            ("TCB_ENV", "own-env"),
            ("WX_APPID", "wx0envapp"),
            ("WX_APPSECRET", "ENVAPPSECRET"),
        ]);
        let bare = Context::default();
        let configs = [
            "{}".to_string(),
            r#"{"mode":"cloud"}"#.to_string(),
            r#"{"appid":"wx1","secret":"APPSECRET1"}"#.to_string(),
            r#"{"accessToken":"ACCESSTOKEN1"}"#.to_string(),
            // A token function.
            "FUNCTION authorizerAccessToken".to_string(),
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"INITKEY"}"#.to_string(),
            r#"{"mode":"https"}"#.to_string(),
        ];
        for json in &configs {
            for ctx in [&scf, &bare] {
                let c = match json.strip_prefix("FUNCTION ") {
                    Some(name) => with_function("{}", name),
                    None => cfg(json),
                };
                let e = explain(&c, ctx, "openapi.tcb.x");
                match select(&c, ctx).map_err(|e| e.for_api("openapi.tcb.x")) {
                    Ok(route) => assert_eq!(e.mode, route.name(), "{json}"),
                    Err(err) => {
                        assert_eq!(e.mode, "none", "{json}");
                        assert_eq!(e.problem.unwrap().err_msg, err.err_msg);
                        continue;
                    }
                }
                let text = shown(&e);
                for secret in [
                    "TOPSECRETKEY",
                    "SESSIONTOKENVALUE",
                    "ENVAPPSECRET",
                    "APPSECRET1",
                    "ACCESSTOKEN1",
                    "INITKEY",
                    "AKIDexampleexample1234",
                ] {
                    assert!(!text.contains(secret), "{json}: {text}");
                }
            }
        }
    }

    #[test]
    fn explain_names_sources_and_reasons() {
        let env = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TCB_CONTEXT_CNFG", r#"{"URL":"http://127.0.0.1:9/admin"}"#),
        ]);
        let e = explain(&cfg(r#"{"env":"e1"}"#), &env, "x");
        assert_eq!(e.mode, "cloud");
        assert!(e.reason.contains("TENCENTCLOUD_SECRETID"), "{}", e.reason);
        let get = |e: &Explanation, n: &str| {
            e.settings
                .iter()
                .find(|s| s.name == n)
                .cloned()
                .unwrap_or_else(|| panic!("{n} missing: {e:?}"))
        };
        assert_eq!(get(&e, "secretId").value, "AKID…1234");
        assert_eq!(get(&e, "secretId").source, "env TENCENTCLOUD_SECRETID");
        assert_eq!(get(&e, "secretKey").value, "***");
        assert_eq!(get(&e, "env").value, "e1");
        assert_eq!(get(&e, "serviceUrl").value, "http://127.0.0.1:9/admin");
        assert_eq!(get(&e, "serviceUrl").source, "env TCB_CONTEXT_CNFG (URL)");
        assert!(e.problem.is_none());

        let wx = Context::from_pairs([("WX_APPID", "wx0envapp"), ("WX_APPSECRET", "s")]);
        let e = explain(&cfg(r#"{"timeout":500}"#), &wx, "x");
        assert_eq!(e.mode, "https");
        assert!(
            e.reason.contains("WX_APPID and WX_APPSECRET"),
            "{}",
            e.reason
        );
        assert_eq!(get(&e, "appid").value, "wx0envapp");
        assert_eq!(get(&e, "secret").source, "env WX_APPSECRET");
        assert_eq!(get(&e, "apiBaseUrl").value, "https://api.weixin.qq.com");
        assert_eq!(get(&e, "timeout").value, "500ms");

        // Cloud mode forced without a secret pair: the problem a call would hit.
        let e = explain(&cfg(r#"{"mode":"cloud"}"#), &Context::default(), "x");
        assert_eq!(e.mode, "cloud");
        let p = e.problem.unwrap();
        assert_eq!(p.err_code, INVALID_COMMON_PARAM);
        assert!(p.err_msg.contains("TENCENTCLOUD_SECRETID"), "{}", p.err_msg);

        assert_eq!(shorten_id("short"), "***");
    }

    #[test]
    fn explain_shows_the_values_a_call_uses_with_their_sources() {
        let get = |e: &Explanation, n: &str| {
            let s = e.settings.iter().find(|s| s.name == n);
            s.map(|s| (s.value.clone(), s.source.clone()))
        };
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TENCENTCLOUD_SESSIONTOKEN", "envtoken"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TCB_ENV", "own-env"),
        ]);
        // init()'s pair with the environment's session token: each part says where it is from.
        let c = cfg(
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"INITKEY","region":"ap-shanghai"}"#,
        );
        let e = explain(&c, &ctx, "x");
        assert_eq!(get(&e, "secretId").unwrap().1, "init option secretId");
        assert_eq!(get(&e, "secretKey").unwrap().1, "init option secretKey");
        assert_eq!(
            get(&e, "sessionToken").unwrap().1,
            "env TENCENTCLOUD_SESSIONTOKEN"
        );
        assert_eq!(
            get(&e, "region").unwrap(),
            ("ap-shanghai".into(), "init option region".into())
        );
        // The values shown are the ones the call is built from.
        let env = cloud::endpoint::env_id(&c, &ctx);
        let ep = cloud::endpoint::resolve(&c, &ctx, &env, "");
        assert_eq!(get(&e, "env").unwrap().0, env);
        assert_eq!(get(&e, "serviceUrl").unwrap().0, ep.display_url);
        assert_eq!(ep.region.as_deref(), Some("ap-shanghai"));
        let c = cfg(
            r#"{"secretId":"AKIDfrominit00005678","secretKey":"K","sessionToken":"T","env":{"dynamic":true}}"#,
        );
        let e = explain(&c, &ctx, "x");
        assert_eq!(
            get(&e, "sessionToken").unwrap().1,
            "init option sessionToken"
        );
        assert_eq!(
            get(&e, "env").unwrap(),
            (
                "own-env".into(),
                "DYNAMIC_CURRENT_ENV: env TCB_ENV or SCF_NAMESPACE".into()
            )
        );
        assert_eq!(get(&e, "region").unwrap().1, "env TENCENTCLOUD_REGION");

        let c = cfg(
            r#"{"componentAppid":"wxcomp","componentAppsecret":"S","authorizerAppid":"wxa","authorizerRefreshToken":"R"}"#,
        );
        let e = explain(&c, &Context::default(), "x");
        assert_eq!(e.mode, "thirdparty");
        for name in [
            "componentAppid",
            "componentAppsecret",
            "authorizerAppid",
            "authorizerRefreshToken",
        ] {
            assert_eq!(get(&e, name).unwrap().1, format!("init option {name}"));
        }
        let e = explain(
            &cfg(r#"{"appid":"wx1","secret":"S"}"#),
            &Context::default(),
            "x",
        );
        assert_eq!(
            get(&e, "appid").unwrap(),
            ("wx1".into(), "init option appid".into())
        );
        assert_eq!(get(&e, "secret").unwrap().1, "init option secret");
        assert_eq!(get(&e, "apiBaseUrl").unwrap().1, "default");
    }

    #[test]
    fn in_a_cloud_runtime_the_cloud_call_beats_wx_appid_and_secret() {
        // The platform sets WX_APPID per invocation; functions often carry an
        // app secret for other work. Neither may switch the call to HTTPS.
        let app = [("WX_APPID", "wx0envapp"), ("WX_APPSECRET", "ENVAPPSECRET")];
        let scf = Context::from_pairs(
            [
                ("TENCENTCLOUD_RUNENV", "SCF"),
                ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
                ("TENCENTCLOUD_SECRETKEY", "k"),
                ("TCB_ENV", "own-env"),
            ]
            .into_iter()
            .chain(app),
        );
        let cbr = Context::from_pairs([("CBR_ENV_ID", "own-env")].into_iter().chain(app));
        for ctx in [&scf, &cbr] {
            for json in ["{}", r#"{"env":{"dynamic":true}}"#] {
                assert_eq!(
                    select(&cfg(json), ctx).map_err(|e| e.for_api("x")).unwrap(),
                    Route::Cloud,
                    "{json}"
                );
                let e = explain(&cfg(json), ctx, "x");
                assert_eq!(e.mode, "cloud");
                assert!(
                    e.reason.contains("WX_APPID") && e.reason.contains("mode"),
                    "{}",
                    e.reason
                );
            }
            // init() options or `mode` say otherwise.
            assert!(matches!(
                select(&cfg(r#"{"mode":"https"}"#), ctx)
                    .map_err(|e| e.for_api("x"))
                    .unwrap(),
                Route::Https(Auth::App { .. })
            ));
            assert!(matches!(
                select(&cfg(r#"{"appid":"wx1","secret":"s"}"#), ctx)
                    .map_err(|e| e.for_api("x"))
                    .unwrap(),
                Route::Https(Auth::App { .. })
            ));
        }
        // Outside a cloud runtime they still pick HTTPS.
        let local = Context::from_pairs(app);
        assert!(matches!(
            select(&cfg("{}"), &local)
                .map_err(|e| e.for_api("x"))
                .unwrap(),
            Route::Https(_)
        ));
    }

    #[test]
    fn explain_never_shows_a_password_in_a_url() {
        let cloud_env = [
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
        ];
        let cases = [
            (
                r#"{"serviceUrl":"http://u:PASSWORD1@127.0.0.1:9/admin"}"#.to_string(),
                Context::from_pairs(cloud_env),
            ),
            (
                "{}".to_string(),
                Context::from_pairs(cloud_env.into_iter().chain([(
                    "TCB_CONTEXT_CNFG",
                    r#"{"URL":"http://u:PASSWORD1@127.0.0.1:9/admin"}"#,
                )])),
            ),
            (
                r#"{"accessToken":"t","apiBaseUrl":"http://u:PASSWORD1@127.0.0.1:9"}"#.to_string(),
                Context::default(),
            ),
            (
                r#"{"accessToken":"t"}"#.to_string(),
                Context::from_pairs([("WX_API_BASE_URL", "http://u:PASSWORD1@127.0.0.1:9")]),
            ),
        ];
        for (json, ctx) in &cases {
            let e = explain(&cfg(json), ctx, "x");
            assert!(e.problem.is_none(), "{json}: {:?}", e.problem);
            let text = shown(&e);
            assert!(!text.contains("PASSWORD1"), "{json}: {text}");
            assert!(text.contains("http://***@127.0.0.1:9"), "{json}: {text}");
        }
    }

    #[test]
    fn explain_reports_an_unreadable_context_config() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_SECRETID", "AKIDexampleexample1234"),
            ("TENCENTCLOUD_SECRETKEY", "k"),
            ("TCB_CONTEXT_CNFG", "{URL:http://127.0.0.1:9/admin}"),
        ]);
        let e = explain(&cfg("{}"), &ctx, "x");
        let p = e.problem.unwrap();
        assert_eq!(p.err_code, crate::codes::INVALID_PARAM);
        assert!(p.err_msg.contains("TCB_CONTEXT_CNFG"), "{}", p.err_msg);
    }
}
