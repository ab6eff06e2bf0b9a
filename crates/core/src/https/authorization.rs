//! `api_query_auth`: a third-party platform exchanges an authorization code
//! (from the `authorized` / `updateauthorized` event, or the authorization
//! page's redirect) for the authorizer's tokens, the refresh token above all.
//!
//! The component_access_token is this process's own (see [`query_auth`]);
//! when it must be obtained, the verify ticket given here is used.

use serde_json::{Map, Value};

use super::component;
use super::token::{self, fingerprint, lifetime, Endpoint};
use crate::error::{ApiError, ErrorKind};

/// What `api_query_auth` gave for an authorization code.
#[derive(Clone)]
pub struct Authorization {
    pub authorizer_appid: String,
    pub access_token: String,
    pub expires_in_secs: u64,
    pub refresh_token: String,
    /// `func_info` as WeChat gave it (the permission sets).
    pub func_info: Value,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("authorizer_appid", &self.authorizer_appid)
            .field("access_token", &"***")
            .field("refresh_token", &"***")
            .finish()
    }
}

/// Exchange `code` for the authorizer's tokens. `ticket`: the latest
/// verify ticket (needed only when this process has no component token).
///
/// The component_access_token is kept in this process (one cell per base
/// URL and component), fetched once however many events arrive at once, and
/// renewed once when WeChat rejects it (a token error proves the code was
/// not used).
pub async fn query_auth(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_appsecret: &str,
    ticket: Option<String>,
    code: &str,
) -> Result<Authorization, ApiError> {
    if code.is_empty() {
        return Err(ApiError::invalid_config("the authorization code is empty"));
    }
    let cell = token::cell(&format!(
        "component|{}|{component_appid}|{}",
        ep.base,
        fingerprint(component_appsecret)
    ));
    let mut retried = false;
    loop {
        let ctoken = cell
            .get(|_| async {
                let Some(ticket) = ticket.as_deref() else {
                    return Err(ApiError::invalid_config(
                        "no component_verify_ticket has been received yet",
                    ));
                };
                component::component_token(ep, component_appid, component_appsecret, ticket).await
            })
            .await?;
        match exchange(ep, component_appid, &ctoken, code).await {
            Err(e) if e.kind == ErrorKind::TokenRejected && !retried => {
                cell.invalidate(&ctoken);
                retried = true;
            }
            other => return other,
        }
    }
}

async fn exchange(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_token: &str,
    code: &str,
) -> Result<Authorization, ApiError> {
    let path = "/cgi-bin/component/api_query_auth";
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("component_access_token", component_token)
        .finish();
    let url = format!("{}{path}?{query}", ep.base);
    let body = serde_json::json!({
        "component_appid": component_appid,
        "authorization_code": code,
    })
    .to_string();
    let secrets: Vec<&str> = ep
        .secrets
        .iter()
        .copied()
        .chain([component_token, code])
        .collect();
    let ep2 = Endpoint {
        secrets: &secrets,
        ..*ep
    };
    let obj = ep2
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
        access_token,
        expires_in_secs: lifetime(&info).as_secs(),
        refresh_token,
        func_info: info.get("func_info").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{Emulator, EmulatorOptions};
    use crate::error::INVALID_COMMON_PARAM;
    use std::time::Duration;

    const COMP: &str = "wx0emulatorcomp001";
    const COMP_SECRET: &str = "emulator-component-secret";

    fn endpoint<'a>(client: &'a reqwest::Client, base: &'a str) -> Endpoint<'a> {
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
        let (base, client) = (
            emu.https_base_url(),
            crate::transport::client_for(None).unwrap(),
        );
        let ep = endpoint(&client, &base);
        let a = emu.authorize("wxnewauthorizer01").await.unwrap();
        assert_eq!(a.info_type, "authorized");
        let got = query_auth(&ep, COMP, COMP_SECRET, Some("ticket@@@x".into()), &a.code)
            .await
            .unwrap();
        assert_eq!(got.authorizer_appid, "wxnewauthorizer01");
        assert!(got.refresh_token.starts_with("refreshtoken@@@"));
        assert!(got.expires_in_secs > 0);
        // Used once: the second exchange is refused with WeChat's code.
        let again = query_auth(&ep, COMP, COMP_SECRET, None, &a.code)
            .await
            .unwrap_err();
        assert_eq!(again.err_code, 61009);
        assert!(!again.err_msg.contains(&a.code), "{}", again.err_msg);
        // The access token creates environments in the authorizer's account.
        let path = format!(
            "{base}/tcb/createenvandresource?access_token={}",
            got.access_token
        );
        let answer = crate::transport::post_json(
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
    async fn without_a_ticket_the_component_token_cannot_be_had() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let (base, client) = (
            emu.https_base_url(),
            crate::transport::client_for(None).unwrap(),
        );
        let ep = endpoint(&client, &base);
        let e = query_auth(&ep, COMP, "wrong-secret-for-a-fresh-cell", None, "code")
            .await
            .unwrap_err();
        assert_eq!(e.err_code, INVALID_COMMON_PARAM);
        assert!(
            e.err_msg.contains("no component_verify_ticket"),
            "{}",
            e.err_msg
        );
        emu.close().await;
    }
}
