//! WeChat's JSON answer (shared by the cloud call and the HTTPS modes) on
//! arbitrary text: never a panic; a success is a JSON object with errCode 0.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_cloud_core::wire::answer::{wechat_json, Success};
use wx_cloud_core::wire::json_deep;

fuzz_target!(|data: &[u8]| {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match wechat_json("openapi.x.y", &text, flag & 1 == 1) {
        Ok(Success::Json(out)) => {
            // Any depth (as JSON.parse reads it): json_deep, not serde_json.
            let v = json_deep::parse(&lone_to_bmp(&out), &mut |m| m).expect("success JSON parses");
            assert_eq!(v["errCode"], serde_json::json!(0));
            assert_eq!(v["errMsg"], serde_json::json!("openapi.x.y:ok"));
            json_deep::drop_value(v);
        }
        Ok(Success::Binary { .. }) => panic!("wechat_json never answers binary"),
        Err(e) => assert!(e.err_msg.starts_with("openapi.x.y:fail "), "{}", e.err_msg),
    }
});

/// The success text may carry escaped lone surrogates (as JSON.parse reads
/// them), which serde_json refuses: make them plain BMP escapes to check
/// the rest. (serde_json writes proper pairs raw, so every `\ud` escape in
/// the output is a lone one.)
fn lone_to_bmp(text: &str) -> String {
    text.replace("\\ud", "\\u0").replace("\\uD", "\\u0")
}
