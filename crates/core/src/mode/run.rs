//! Making one call in the mode [`super::select`] picks, with `retry.onBusy`.

use std::sync::Arc;
use std::time::Instant;

use super::select::*;
use crate::call::answer::wechat_rid;
use crate::call::answer::Success;
use crate::call::input::CallInput;
use crate::cloud;
use crate::env::Context;
use crate::error::{ApiError, ErrorKind};
use crate::http;
use crate::https;
use crate::options::Config;
use crate::token::{ComponentTokens, Wire};

/// What a finished call reports besides its result: for the debug line.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The calling mode (`cloud`, `https`, `third-party`, …).
    pub mode: &'static str,
    /// The cloud call's sequence id (`TCB_SEQID`), when there is one.
    pub seq_id: String,
    /// How long the call took, in milliseconds.
    pub elapsed_ms: u128,
    /// API requests sent (retries included).
    pub sends: u32,
    /// Busy answers retried.
    pub busy_retries: u32,
    /// A supplied token was rejected (a token function's client retries once).
    pub token_rejected: bool,
    /// HTTPS modes: WeChat's request id (`rid: …` in an error's errmsg).
    pub rid: Option<String>,
    /// HTTPS modes: method and path, and whether the path table gave them.
    pub path: Option<String>,
}

/// The token of an HTTPS or third-party call, when the configuration does
/// not hold it.
#[derive(Clone, Copy, Default)]
pub enum Token<'a> {
    /// From the configuration (a fixed token, or the app's managed one).
    #[default]
    Configured,
    /// Obtained by the caller (the application's token function).
    Given(&'a str),
    /// The managed third-party tokens.
    Managed(&'a Arc<ComponentTokens>),
}

impl<'a> From<Option<&'a str>> for Token<'a> {
    fn from(t: Option<&'a str>) -> Token<'a> {
        t.map_or(Token::Configured, Token::Given)
    }
}

/// Make one call in HTTPS or third-party mode.
///
/// `token` is the token the caller obtained (from a token function), or the
/// managed third-party tokens ([`ComponentTokens`]).
pub(crate) async fn https_call<'t>(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    auth: &https::Auth,
    token: impl Into<Token<'t>>,
    report: &mut https::HttpsReport,
) -> Result<Success, ApiError> {
    let token = token.into();
    // Every failure below is built without the API name: its `{api}:fail `
    // prefix is added here, once.
    let result = match (auth, token) {
        (https::Auth::Component(_), Token::Managed(tokens)) => {
            managed_call(cfg, ctx, input, auth, tokens, report).await
        }
        (_, Token::Given(t)) => {
            https::call_unprefixed(cfg, ctx, input, auth, Some(t), cfg.timeout(), report).await
        }
        _ => https::call_unprefixed(cfg, ctx, input, auth, None, cfg.timeout(), report).await,
    };
    result.map_err(|e| e.for_api(&input.display_api()))
}

/// A call with the managed third-party tokens: the authorizer's token from
/// the token store, the call, and once more with a renewed token if WeChat
/// rejects it. One deadline for all of it.
async fn managed_call(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    auth: &https::Auth,
    tokens: &Arc<ComponentTokens>,
    report: &mut https::HttpsReport,
) -> Result<Success, ApiError> {
    let deadline = tokio::time::Instant::now() + cfg.timeout();
    let authorizer = tokens.authorizer_of(input.appid.as_deref())?;
    let wire = Wire { cfg, ctx };
    let first = tokens.authorizer_token(&wire, authorizer, deadline).await?;
    let left = || {
        deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(std::time::Duration::from_millis(1))
    };
    let outcome =
        https::call_unprefixed(cfg, ctx, input, auth, Some(&first.token), left(), report).await;
    match outcome {
        Err(e) if e.kind == ErrorKind::TokenRejected => {
            tokens
                .drop_authorizer_token(authorizer, &first, deadline)
                .await?;
            let second = tokens.authorizer_token(&wire, authorizer, deadline).await?;
            if second.token == first.token {
                return Err(e);
            }
            https::call_unprefixed(cfg, ctx, input, auth, Some(&second.token), left(), report).await
        }
        other => other,
    }
}

/// Make one call in the mode [`select`] picks.
pub async fn run<'t>(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    token: impl Into<Token<'t>>,
) -> (Result<Success, ApiError>, Report) {
    let token = token.into();
    let started = Instant::now();
    let mut report = Report {
        mode: "none",
        ..Report::default()
    };
    let route = match select(cfg, ctx).map_err(|e| e.for_api(&input.display_api())) {
        Ok(r) => r,
        Err(e) => {
            report.elapsed_ms = started.elapsed().as_millis();
            return (Err(e), report);
        }
    };
    report.mode = route.name();
    let mut attempt = 0;
    let result = loop {
        let result = match &route {
            Route::Cloud => {
                let (r, cloud_report) = cloud::call(cfg, ctx, input).await;
                report.seq_id = cloud_report.seq_id;
                report.sends += 1;
                r
            }
            Route::Https(auth) | Route::ThirdParty(auth) => {
                let mut hr = https::HttpsReport::default();
                let r = https_call(cfg, ctx, input, auth, token, &mut hr).await;
                report.sends += hr.sends;
                report.token_rejected = hr.token_rejected;
                report.path = hr.path;
                report.rid = r.as_ref().err().and_then(|e| wechat_rid(&e.err_msg));
                r
            }
        };
        match result {
            // `retry.onBusy`: WeChat's busy answers (-1, -1000), as many times as asked.
            Err(e) if e.kind == ErrorKind::Busy && attempt < cfg.retry.on_busy => {
                attempt += 1;
                report.busy_retries = attempt;
                tokio::time::sleep(http::busy_backoff(attempt)).await;
            }
            other => break other,
        }
    };
    report.elapsed_ms = started.elapsed().as_millis();
    (result, report)
}
