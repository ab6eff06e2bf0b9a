//! `api_query_auth`: a third-party platform exchanges an authorization code
//! (from the `authorized` / `updateauthorized` event, or the authorization
//! page's redirect) for the authorizer's tokens, the refresh token above all.
//!
//! The component_access_token is given by the caller: the event handler
//! takes it from the token store the platform's clients share
//! (`crate::token`), so the cluster asks WeChat for one per expiry.

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::component;
use super::token::{lifetime, Endpoint};
use crate::error::ApiError;

/// What `api_query_auth` gave for an authorization code (the tokens
/// redacted from `Debug`).
#[derive(Clone, Debug)]
pub struct Authorization {
    pub authorizer_appid: String,
    pub access_token: SecretString,
    pub expires_in_secs: u64,
    pub refresh_token: SecretString,
    /// `func_info` as WeChat gave it (the permission sets).
    pub func_info: Value,
}

/// Exchange `code` for the authorizer's tokens with `component_token`.
/// A token error (40001/40014/42001) comes back as WeChat's code: it proves
/// the code was not used, so the caller may drop the token and ask again.
pub async fn query_auth(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_token: &str,
    code: &str,
) -> Result<Authorization, ApiError> {
    if code.is_empty() {
        return Err(ApiError::invalid_config("the authorization code is empty"));
    }
    exchange(ep, component_appid, component_token, code).await
}

async fn exchange(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_token: &str,
    code: &str,
) -> Result<Authorization, ApiError> {
    let path = "/cgi-bin/component/api_query_auth";
    let url = component::with_component_token(ep.base, path, component_token);
    let body = serde_json::json!({
        "component_appid": component_appid,
        "authorization_code": code,
    })
    .to_string();
    let mut secrets = Vec::new();
    let obj = ep
        .hiding([component_token, code], &mut secrets)
        .answer("the authorizer's tokens", path, &url, Some(&body))
        .await?;
    let info = obj
        .get("authorization_info")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(Map::new);
    let text = |name: &str| {
        info.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(authorizer_appid), Some(access_token), Some(refresh_token)) = (
        text("authorizer_appid"),
        text("authorizer_access_token"),
        text("authorizer_refresh_token"),
    ) else {
        return Err(ApiError::bad_answer(format!(
            "the answer of {path} has no authorization_info with authorizer_appid, \
                     authorizer_access_token and authorizer_refresh_token"
        )));
    };
    Ok(Authorization {
        authorizer_appid,
        access_token: access_token.into(),
        expires_in_secs: lifetime(&info).as_secs(),
        refresh_token: refresh_token.into(),
        func_info: info.get("func_info").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::INVALID_COMMON_PARAM;
    use crate::emulator::{Emulator, EmulatorOptions};
    use secrecy::ExposeSecret;
    use std::time::Duration;

    const COMP: &str = "wx0emulatorcomp001";
    const COMP_SECRET: &str = "emulator-component-secret";

    fn endpoint<'a>(client: &'a crate::http::Client, base: &'a str) -> Endpoint<'a> {
        Endpoint {
            client,
            base,
            timeout: Duration::from_secs(10),
            secrets: &[COMP_SECRET],
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exchanges_a_code_once_and_the_refresh_token_works() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let (base, client) = (emu.https_base_url(), crate::http::client_for(None).unwrap());
        let ep = endpoint(&client, &base);
        let a = emu.authorize("wxnewauthorizer01").await.unwrap();
        assert_eq!(a.info_type, "authorized");
        let ctoken = crate::https::component::component_token(&ep, COMP, COMP_SECRET, "ticket@@@x")
            .await
            .unwrap()
            .token;
        let got = query_auth(&ep, COMP, ctoken.expose_secret(), &a.code)
            .await
            .unwrap();
        assert_eq!(got.authorizer_appid, "wxnewauthorizer01");
        assert!(got
            .refresh_token
            .expose_secret()
            .starts_with("refreshtoken@@@"));
        let shown = format!("{got:?}");
        assert!(
            !shown.contains(got.refresh_token.expose_secret()),
            "{shown}"
        );
        assert!(!shown.contains(got.access_token.expose_secret()), "{shown}");
        assert!(got.expires_in_secs > 0);
        // Used once: the second exchange is refused with WeChat's code.
        let again = query_auth(&ep, COMP, ctoken.expose_secret(), &a.code)
            .await
            .unwrap_err();
        assert_eq!(again.err_code, 61009);
        assert!(!again.err_msg.contains(&a.code), "{}", again.err_msg);
        // The access token creates environments in the authorizer's account.
        let path = format!(
            "{base}/tcb/createenvandresource?access_token={}",
            got.access_token.expose_secret()
        );
        let answer = crate::http::post_json(
            &client,
            &path,
            r#"{"type":"CreatePostpayPackage","alias":"mine"}"#,
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 200);
        let envs = emu.environments();
        assert_eq!(envs.len(), 1);
        assert_eq!(envs[0].account, "wxnewauthorizer01");
        emu.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rejected_component_token_is_wechats_code_and_the_code_stays_usable() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let (base, client) = (emu.https_base_url(), crate::http::client_for(None).unwrap());
        let ep = endpoint(&client, &base);
        let a = emu.authorize("wxnewauthorizer02").await.unwrap();
        let e = query_auth(&ep, COMP, "not-a-component-token", &a.code)
            .await
            .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::TokenRejected, "{e:?}");
        assert!(
            !e.err_msg.contains("not-a-component-token"),
            "{}",
            e.err_msg
        );
        let empty = query_auth(&ep, COMP, "t", "").await.unwrap_err();
        assert_eq!(empty.err_code, INVALID_COMMON_PARAM);
        // Refused for its token, the code was not used.
        let ctoken = crate::https::component::component_token(&ep, COMP, COMP_SECRET, "ticket@@@x")
            .await
            .unwrap()
            .token;
        let got = query_auth(&ep, COMP, ctoken.expose_secret(), &a.code)
            .await
            .unwrap();
        assert_eq!(got.authorizer_appid, "wxnewauthorizer02");
        emu.close().await;
    }
}
