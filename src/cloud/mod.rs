//! The cloud call: a signed multipart request to the cloud-base gateway.
//!
//! A call reads straight through: credentials and target from the
//! [`Config`] and the environment [`Context`], the request
//! ([`request::prepare`]), the [`transport`](crate::transport), and the
//! answer ([`answer::decode_gateway`]).

pub mod answer;
pub mod endpoint;
pub mod proto;
pub mod request;
pub mod sign;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::env::Context;
use crate::error::{fail_msg, ApiError, TCB_SERVER_TIMEOUT, TCB_SYS_ERR};
use crate::options::Config;
use crate::transport::{self, FormField};
use answer::Success;
use request::CallInput;

/// What a finished call reports besides its result: for the debug line.
#[derive(Debug, Clone, Default)]
pub struct CallReport {
    pub seq_id: String,
    pub elapsed_ms: u128,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Make one cloud call.
pub async fn call(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
) -> (Result<Success, ApiError>, CallReport) {
    let started = Instant::now();
    let mut report = CallReport::default();
    let result = call_inner(cfg, ctx, input, &mut report).await;
    report.elapsed_ms = started.elapsed().as_millis();
    (result, report)
}

async fn call_inner(
    cfg: &Config,
    ctx: &Context,
    input: &CallInput,
    report: &mut CallReport,
) -> Result<Success, ApiError> {
    let api = input.display_api();
    let secrets = request::credentials(cfg, ctx, &api)?;
    let env_id = endpoint::env_id(cfg, ctx);
    let now = now_ms();
    let seq_id = endpoint::seq_id(ctx, &endpoint::next_event_id(now));
    report.seq_id = seq_id.clone();
    let target = endpoint::resolve(cfg, ctx, &env_id, &seq_id);
    let prepared = request::prepare(target, input, ctx, &secrets, now)?;
    let fields: Vec<FormField<'_>> = prepared
        .fields
        .iter()
        .map(|f| (f.name, f.value.as_slice(), f.binary))
        .collect();
    let display_url = &prepared.endpoint.display_url;
    let sent = tokio::time::timeout(
        cfg.timeout,
        transport::post_multipart(&prepared.endpoint.url, &prepared.headers, &fields),
    )
    .await;
    match sent {
        Err(_) => Err(ApiError::cloud(
            TCB_SERVER_TIMEOUT,
            fail_msg(
                &api,
                &format!(
                    "-501002 resource server timeout. no answer within {} ms | [{display_url}]",
                    cfg.timeout.as_millis()
                ),
            ),
        )),
        Ok(Err(e)) => Err(ApiError::plain(
            TCB_SYS_ERR,
            fail_msg(
                &api,
                &format!(
                    "-501001 resource system error. {} | [{display_url}]",
                    e.describe()
                ),
            ),
        )),
        Ok(Ok(raw)) => answer::decode_gateway(
            &api,
            raw.status,
            &raw.content_type,
            &raw.body,
            input.convert_case,
            display_url,
        ),
    }
}
