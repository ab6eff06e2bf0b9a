//! The gateway answer decoder on arbitrary bytes, content types and
//! statuses: it must never panic, and an error must name the API.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_cloud_core::wire::answer::{decode_gateway, Success};
use wx_cloud_core::wire::json_deep;

const CONTENT_TYPES: &[&str] = &[
    "application/octet-stream",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "text/html",
    "",
    "APPLICATION/JSON",
];
const STATUSES: &[u16] = &[200, 200, 200, 204, 400, 404, 413, 500, 502, 503];

fuzz_target!(|data: &[u8]| {
    let (head, body) = data.split_at(data.len().min(2));
    let ct = CONTENT_TYPES[usize::from(*head.first().unwrap_or(&0)) % CONTENT_TYPES.len()];
    let flags = *head.get(1).unwrap_or(&0);
    let status = STATUSES[usize::from(flags >> 1) % STATUSES.len()];
    let convert_case = flags & 1 == 1;
    let api = "openapi.tcb.createenvandresource";
    match decode_gateway(
        api,
        status,
        ct,
        body,
        convert_case,
        "http://127.0.0.1/admin",
    ) {
        Ok(Success::Json(text)) => {
            // a success is always a JSON object ending with errMsg/errCode
            // Any depth (as JSON.parse reads it): json_deep, not serde_json.
            let v = json_deep::parse(&lone_to_bmp(&text), &mut |m| m).expect("success JSON parses");
            assert!(v.is_object());
            assert_eq!(v["errCode"], serde_json::json!(0));
            json_deep::drop_value(v);
        }
        Ok(Success::Binary { .. }) => {}
        Err(e) => {
            // platform errors (a CommOpenApiResp errorCode) keep the
            // reference's text; everything else names the API
            assert!(
                e.err_msg.starts_with(api) || e.err_msg.starts_with("system error: error code: "),
                "{}",
                e.err_msg
            );
            assert!(e.err_msg.len() < 200 * 1024);
        }
    }
});

/// The success text may carry escaped lone surrogates (as JSON.parse reads
/// them), which serde_json refuses: make them plain BMP escapes to check
/// the rest. (serde_json writes proper pairs raw, so every `\ud` escape in
/// the output is a lone one.)
fn lone_to_bmp(text: &str) -> String {
    text.replace("\\ud", "\\u0").replace("\\uD", "\\u0")
}
