//! Where a cloud call goes: the gateway URL, its query, the environment id
//! and the request's `seqId` (wire contract, sections 1 and 2).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::env::Context;
use crate::error::ApiError;
use crate::http;
use crate::options::{unsendable_token, Config};
use crate::redact::redact_url_userinfo;
use crate::settings::injected_url;

/// The resolved target of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Full URL, with `env` and `seqId` in the query.
    pub url: String,
    /// `url` parsed, as the request is sent (`None`: it does not parse, and
    /// sending it reports why): parsed here once, not again by the client.
    pub parsed: Option<url::Url>,
    /// The URL without its query string, safe to show in messages.
    pub display_url: String,
    /// The `Host` header value (host and port as in the URL).
    pub host: String,
    /// Region sent as `x-tcb-region`, when known.
    pub region: Option<String>,
    /// Environment id sent as `envName` and `env=`.
    pub env_id: String,
    /// The request's `seqId`.
    pub seq_id: String,
}

static EVENT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `{ms in hex}_{counter in hex}`, the counter starting at 1 per process.
pub fn next_event_id(now_ms: u64) -> String {
    let n = EVENT_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{now_ms:x}_{n:x}")
}

/// `seqId`: `{TCB_SEQID}-{eventId}` when `TCB_SEQID` is set, else the event id.
pub fn seq_id(ctx: &Context, event_id: &str) -> String {
    match ctx.non_empty("TCB_SEQID") {
        Some(prefix) => format!("{prefix}-{event_id}"),
        None => event_id.to_string(),
    }
}

/// The environment id the call targets (section 2).
pub fn env_id(cfg: &Config, ctx: &Context) -> String {
    crate::settings::env_id(cfg, ctx).value
}

/// An env id that may be put in the host name: `^[a-z0-9_-]{1,40}$`.
pub fn is_valid_env_format(env: &str) -> bool {
    (1..=40).contains(&env.len())
        && env
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Check the variables [`resolve`] reads, so that a call rejects (-501007,
/// naming the variable) rather than going elsewhere or failing to send:
/// `TCB_CONTEXT_CNFG` (unless `serviceUrl` is given) and
/// `TENCENTCLOUD_REGION` (sent as `x-tcb-region` and put in the host name).
pub fn check_environment(cfg: &Config, ctx: &Context) -> Result<(), ApiError> {
    let bad = |msg: String| ApiError::invalid_param(&msg);
    if cfg.service_url.is_none() {
        injected_url(ctx).map_err(|why| {
            bad(format!(
                "environment variable TCB_CONTEXT_CNFG {why}; fix or unset it, or pass serviceUrl to {}",
                cfg.wording.init()
            ))
        })?;
    }
    if let Some(why) = ctx
        .non_empty("TENCENTCLOUD_REGION")
        .and_then(unsendable_token)
    {
        return Err(bad(format!(
            "environment variable TENCENTCLOUD_REGION {why}"
        )));
    }
    Ok(())
}

/// A query value as sent: everything but `A-Z a-z 0-9 - _ . *`
/// percent-encoded, so that the URL signed is byte for byte the URL sent
/// (`url::Url`, which our client sends through, would drop a tab and encode a
/// space or non-ASCII character after the signature was computed).
fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Resolve the call's target. The variables it reads are checked by
/// [`check_environment`]; here an unreadable `TCB_CONTEXT_CNFG` is passed over.
pub fn resolve(cfg: &Config, ctx: &Context, env_id: &str, seq_id: &str) -> Endpoint {
    let own_region = ctx.non_empty("TENCENTCLOUD_REGION");
    let region = crate::settings::region(cfg, ctx).map(|r| r.value);
    let base = crate::settings::service_url(cfg, ctx)
        .value
        .unwrap_or_else(|| {
            let internal = ctx.is_internal();
            let same_region = match &region {
                Some(r) => Some(r.as_str()) == own_region,
                None => true,
            };
            let host = match (&region, internal && same_region) {
                (Some(r), true) => format!("internal.{r}.tcb-api.tencentcloudapi.com"),
                (None, true) => "internal.tcb-api.tencentcloudapi.com".to_string(),
                (Some(r), false) => format!("{r}.tcb-api.tencentcloudapi.com"),
                (None, false) => "tcb-api.tencentcloudapi.com".to_string(),
            };
            let host = if is_valid_env_format(env_id) {
                format!("{env_id}.{host}")
            } else {
                host
            };
            let scheme = if internal {
                "http"
            } else {
                cfg.protocol.as_deref().unwrap_or("https")
            };
            format!("{scheme}://{host}/admin")
        });
    let query = format!("env={}&seqId={}", query_value(env_id), query_value(seq_id));
    let (url, parsed) = url_with(&base, &query);
    Endpoint {
        host: host_of(&url),
        url,
        parsed,
        display_url: redact_url_userinfo(base.split('?').next().unwrap_or("")),
        region,
        env_id: env_id.to_string(),
        seq_id: seq_id.to_string(),
    }
}

/// `base` with the call's `query`: the URL as sent, and parsed (`None`: it
/// does not parse); the base parsed once for the calls that follow
/// ([`http::with_query`]), else the whole text.
fn url_with(base: &str, query: &str) -> (String, Option<url::Url>) {
    match http::with_query(base, query) {
        Some(url) => (url.as_str().to_string(), Some(url)),
        None => whole_url(base, query),
    }
}

/// The whole URL (`base` with `query` after its own `?`, or after a new
/// one) as the client will send it (it parses the text with `url::Url` too).
fn whole_url(base: &str, query: &str) -> (String, Option<url::Url>) {
    let url = if base.contains('?') {
        format!("{base}{query}")
    } else {
        format!("{base}?{query}")
    };
    match url::Url::parse(&url) {
        Ok(u) => (u.as_str().to_string(), Some(u)),
        Err(_) => (url, None),
    }
}

/// `host[:port]` of a URL, as Node's `url.parse(u).host` gives it.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    authority.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::EnvChoice;

    fn cfg() -> Config {
        Config::default()
    }

    #[test]
    fn built_url_on_scf_is_internal_http() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TCB_ENV", "test-env-123"),
        ]);
        let c = Config {
            env: EnvChoice::Dynamic,
            ..cfg()
        };
        let env = env_id(&c, &ctx);
        let ep = resolve(&c, &ctx, &env, "abc_1");
        assert_eq!(
            ep.url,
            "http://test-env-123.internal.ap-guangzhou.tcb-api.tencentcloudapi.com/admin?env=test-env-123&seqId=abc_1"
        );
        assert_eq!(
            ep.host,
            "test-env-123.internal.ap-guangzhou.tcb-api.tencentcloudapi.com"
        );
        assert_eq!(ep.region.as_deref(), Some("ap-guangzhou"));
    }

    #[test]
    fn other_region_goes_public_and_odd_env_stays_out_of_host() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ]);
        let c = Config {
            region: Some("ap-shanghai".into()),
            ..cfg()
        };
        let ep = resolve(&c, &ctx, "Bad.Env", "s");
        assert_eq!(
            ep.url,
            "http://ap-shanghai.tcb-api.tencentcloudapi.com/admin?env=Bad.Env&seqId=s"
        );
        let ep = resolve(&Config::default(), &Context::default(), "", "s");
        assert_eq!(
            ep.url,
            "https://tcb-api.tencentcloudapi.com/admin?env=&seqId=s"
        );
        let c = Config {
            protocol: Some("http".into()),
            ..cfg()
        };
        assert!(resolve(&c, &Context::default(), "e", "s")
            .url
            .starts_with("http://e.tcb-api"));
    }

    #[test]
    fn service_url_and_injected_url_win() {
        let ctx =
            Context::from_pairs([("TCB_CONTEXT_CNFG", r#"{"URL":"http://127.0.0.1:9/admin"}"#)]);
        let ep = resolve(&cfg(), &ctx, "e", "s");
        assert_eq!(ep.url, "http://127.0.0.1:9/admin?env=e&seqId=s");
        assert_eq!(ep.host, "127.0.0.1:9");
        assert_eq!(ep.display_url, "http://127.0.0.1:9/admin");
        let c = Config::from_json(r#"{"serviceUrl":"http://h:1/x?k=v&"}"#).unwrap();
        let ep = resolve(&c, &ctx, "e", "s");
        assert_eq!(ep.url, "http://h:1/x?k=v&env=e&seqId=s");
        assert_eq!(ep.display_url, "http://h:1/x");
    }

    #[test]
    fn env_selection() {
        let scf = Context::from_pairs([("TENCENTCLOUD_RUNENV", "SCF"), ("SCF_NAMESPACE", "ns")]);
        assert_eq!(env_id(&cfg(), &scf), "ns");
        assert_eq!(env_id(&cfg(), &Context::from_pairs([("TCB_ENV", "x")])), "");
        let c = Config {
            env: EnvChoice::Dynamic,
            ..cfg()
        };
        assert_eq!(env_id(&c, &Context::from_pairs([("TCB_ENV", "x")])), "x");
        let c = Config {
            env: EnvChoice::Id("fixed".into()),
            ..cfg()
        };
        assert_eq!(env_id(&c, &scf), "fixed");
    }

    #[test]
    fn seq_ids() {
        let a = next_event_id(0x1a2b);
        let b = next_event_id(0x1a2b);
        assert!(a.starts_with("1a2b_") && b.starts_with("1a2b_") && a != b);
        assert_eq!(
            seq_id(&Context::from_pairs([("TCB_SEQID", "req")]), "e_1"),
            "req-e_1"
        );
        assert_eq!(seq_id(&Context::default(), "e_1"), "e_1");
    }

    #[test]
    fn an_unreadable_context_config_is_rejected_naming_it() {
        for bad in [
            "{URL:http://127.0.0.1:9/admin}",
            r#"{"url":"http://127.0.0.1:9/admin"}"#,
            "http://127.0.0.1:9/admin",
            r#"{"URL":"ftp://127.0.0.1:9/admin"}"#,
            r#"{"URL":5}"#,
            r#"["http://127.0.0.1:9/admin"]"#,
        ] {
            let ctx = Context::from_pairs([("TCB_CONTEXT_CNFG", bad)]);
            let err = check_environment(&cfg(), &ctx)
                .map_err(|e| e.for_api("openapi.x"))
                .unwrap_err();
            assert_eq!(err.err_code, crate::codes::INVALID_PARAM, "{bad}");
            assert!(
                err.err_msg.contains("TCB_CONTEXT_CNFG"),
                "{bad}: {}",
                err.err_msg
            );
            assert!(
                err.err_msg.starts_with("openapi.x:fail "),
                "{}",
                err.err_msg
            );
            // `serviceUrl` wins, so the variable is not read at all.
            let c = Config::from_json(r#"{"serviceUrl":"http://h:1/admin"}"#).unwrap();
            assert!(check_environment(&c, &ctx)
                .map_err(|e| e.for_api("openapi.x"))
                .is_ok());
        }
        for good in [
            r#"{"URL":"http://127.0.0.1:9/admin"}"#,
            "{}",
            r#"{"URL":"","other":1}"#,
        ] {
            let ctx = Context::from_pairs([("TCB_CONTEXT_CNFG", good)]);
            assert!(
                check_environment(&cfg(), &ctx)
                    .map_err(|e| e.for_api("x"))
                    .is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn a_region_that_cannot_be_sent_is_rejected_naming_it() {
        for bad in ["ap-shanghai\n", "ap-shanghai\r\n", "ap shanghai", "ap-上海"] {
            let ctx = Context::from_pairs([("TENCENTCLOUD_REGION", bad)]);
            let err = check_environment(&cfg(), &ctx)
                .map_err(|e| e.for_api("openapi.x"))
                .unwrap_err();
            assert_eq!(err.err_code, crate::codes::INVALID_PARAM);
            assert!(
                err.err_msg.contains("TENCENTCLOUD_REGION"),
                "{}",
                err.err_msg
            );
        }
        let ctx = Context::from_pairs([("TENCENTCLOUD_REGION", "ap-shanghai")]);
        assert!(check_environment(&cfg(), &ctx)
            .map_err(|e| e.for_api("x"))
            .is_ok());
    }

    #[test]
    fn the_url_signed_is_the_url_sent() {
        // The client sends what `url::Url` makes of the text; the signature
        // covers the text: they must be the same bytes.
        for (env, seq) in [
            ("测试-env", "s_1"),
            ("a\u{0}b", "s_1"),
            ("e", "req\tid-18c_1"),
            ("a b#c&d=%", "s?1"),
            ("test-env-123", "1a2b_1"),
        ] {
            let ep = resolve(&cfg(), &Context::default(), env, seq);
            let sent = url::Url::parse(&ep.url).unwrap();
            assert_eq!(sent.as_str(), ep.url, "{env:?} {seq:?}");
            // What is handed to the client, parsed once.
            assert_eq!(ep.parsed.as_ref(), Some(&sent), "{env:?} {seq:?}");
            let q: Vec<(String, String)> = sent.query_pairs().into_owned().collect();
            assert_eq!(
                q,
                [
                    ("env".to_string(), env.to_string()),
                    ("seqId".to_string(), seq.to_string())
                ]
            );
        }
        let ep = resolve(&cfg(), &Context::default(), "test-env-123", "1a2b_1");
        assert_eq!(
            ep.url,
            "https://test-env-123.tcb-api.tencentcloudapi.com/admin?env=test-env-123&seqId=1a2b_1"
        );
    }

    #[test]
    fn a_base_parsed_once_gives_what_parsing_the_whole_url_gives() {
        let mut resolved = 0;
        for base in [
            "http://127.0.0.1:9/admin",
            "http://H.Example:80/a b/",
            "https://h",
            "http://user:pw@[::1]:9/x",
            "http://h/ad%20min/../x",
            "http://h/\u{e9}t\u{e9}",
            "http://h:1/x?k=v&",
            "http://h/x#frag",
            "http://h:99999/x",
            "not a url",
        ] {
            for (env, seq) in [("e", "s_1"), ("a b#c", "s?2")] {
                let query = format!("env={}&seqId={}", query_value(env), query_value(seq));
                // Twice: the second finds the base kept by the first.
                for _ in 0..2 {
                    assert_eq!(url_with(base, &query), whole_url(base, &query), "{base}");
                }
            }
            // Through `resolve`, for a base `serviceUrl` takes.
            if let Ok(c) = Config::from_json(&format!(r#"{{"serviceUrl":"{base}"}}"#)) {
                resolved += 1;
                for _ in 0..2 {
                    let ep = resolve(&c, &Context::default(), "e", "s_1");
                    assert_eq!(ep.host, host_of(&ep.url), "{base}");
                    assert_eq!(
                        ep.display_url,
                        redact_url_userinfo(base.split('?').next().unwrap())
                    );
                }
            }
        }
        assert!(resolved >= 4, "{resolved} bases went through resolve");
    }

    #[test]
    fn a_password_in_the_url_is_not_shown() {
        let ctx = Context::from_pairs([(
            "TCB_CONTEXT_CNFG",
            r#"{"URL":"http://user:PASSW0RD@127.0.0.1:9/admin"}"#,
        )]);
        let ep = resolve(&cfg(), &ctx, "e", "s");
        assert_eq!(ep.display_url, "http://***@127.0.0.1:9/admin");
        assert_eq!(ep.host, "127.0.0.1:9");
        assert!(ep.url.contains("PASSW0RD"));
    }

    #[test]
    fn env_format() {
        assert!(is_valid_env_format("test-env-123"));
        assert!(!is_valid_env_format("Test"));
        assert!(!is_valid_env_format(""));
        assert!(!is_valid_env_format(&"a".repeat(41)));
    }
}
