//! The third-party platform's two token requests.
//!
//! - `component_access_token` from `POST /cgi-bin/component/api_component_token`
//!   with the component_verify_ticket WeChat pushes to the platform;
//! - `authorizer_access_token` from `POST /cgi-bin/component/api_authorizer_token`
//!   with an authorizer's refresh token (the answer may carry a new one).
//!
//! Which token to use, when to renew it and where the tokens are kept (the
//! token store shared by processes, the verify ticket, the refresh tokens)
//! is decided by [`crate::token::ComponentTokens`]; these requests are sent
//! from here, through the same transport, proxy and redaction as every
//! other request.

use super::token::{Endpoint, Fetched};
use crate::error::ApiError;

/// The URL of the component API at `path`, called with `component_token`.
pub fn with_component_token(base: &str, path: &str, component_token: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("component_access_token", component_token)
        .finish();
    format!("{base}{path}?{query}")
}

/// `component_access_token` for `component_appid`.
pub async fn component_token(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_appsecret: &str,
    ticket: &str,
) -> Result<Fetched, ApiError> {
    let path = "/cgi-bin/component/api_component_token";
    let body = serde_json::json!({
        "component_appid": component_appid,
        "component_appsecret": component_appsecret,
        "component_verify_ticket": ticket,
    })
    .to_string();
    let url = format!("{}{path}", ep.base);
    let mut secrets = Vec::new();
    ep.hiding([component_appsecret, ticket], &mut secrets)
        .request(
            "component_access_token",
            path,
            &url,
            Some(&body),
            "component_access_token",
        )
        .await
        .map(|(f, _)| f)
}

/// `authorizer_access_token` of `authorizer_appid`, and the new refresh
/// token when WeChat rotated it.
pub async fn authorizer_token(
    ep: &Endpoint<'_>,
    component_appid: &str,
    component_token: &str,
    authorizer_appid: &str,
    refresh: &str,
) -> Result<(Fetched, Option<String>), ApiError> {
    let path = "/cgi-bin/component/api_authorizer_token";
    let url = with_component_token(ep.base, path, component_token);
    let body = serde_json::json!({
        "component_appid": component_appid,
        "authorizer_appid": authorizer_appid,
        "authorizer_refresh_token": refresh,
    })
    .to_string();
    let mut secrets = Vec::new();
    let (fetched, obj) = ep
        .hiding([component_token, refresh], &mut secrets)
        .request(
            "authorizer_access_token",
            path,
            &url,
            Some(&body),
            "authorizer_access_token",
        )
        .await?;
    let new_refresh = obj
        .get("authorizer_refresh_token")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty() && *s != refresh)
        .map(str::to_string);
    Ok((fetched, new_refresh))
}
