//! The cloud call's request: `requestData` protobuf, multipart fields,
//! headers and signature (wire contract, sections 3–6).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::endpoint::Endpoint;
use super::proto::{encode_request, KeyValuePair};
use super::sign::{sign, SignRequest};
use crate::call::input::{
    converted_params, extension_for, media_ref, restore_lone, CallInput, ConvertedParams,
};
use crate::env::Context;
use crate::error::ApiError;
use crate::json_text;
use crate::options::{unsendable_token, Config};
use crate::settings::Source;

/// `user-agent` the gateway expects from the cloud-call SDK.
pub const USER_AGENT: &str = "tcb-node-sdk/3.17.2";
/// `x-sdk-version` of the wx-server-sdk release whose wire format we speak.
pub const SDK_VERSION: &str = "wx-server-sdk/4.0.2";
/// Where CloudBase Run puts the cloudbase access token.
pub const CLOUDBASE_ACCESS_TOKEN_PATH: &str = "/.tencentcloudbase/wx/cloudbase_access_token";

/// The Tencent Cloud secret pair a call is signed with (the key and the
/// session token redacted from `Debug`).
#[derive(Clone, Debug)]
pub struct SecretPair {
    pub secret_id: String,
    pub secret_key: SecretString,
    pub session_token: Option<SecretString>,
}

/// Find the secret pair: `init()` options first, else the environment.
/// Missing credentials are an error that names what is missing.
pub fn credentials(cfg: &Config, ctx: &Context) -> Result<SecretPair, ApiError> {
    sourced_credentials(cfg, ctx).map(|c| c.pair)
}

/// The secret pair of a cloud call and where its parts came from.
#[derive(Debug, Clone)]
pub struct SourcedCredentials {
    pub pair: SecretPair,
    /// Of the id and the key.
    pub source: Source,
    /// Of the session token, when there is one.
    pub session_token_source: Option<Source>,
}

/// [`credentials`], with where each part came from.
pub fn sourced_credentials(cfg: &Config, ctx: &Context) -> Result<SourcedCredentials, ApiError> {
    const ENV_TOKEN: Source = Source::Env(&["TENCENTCLOUD_SESSIONTOKEN"]);
    let env_token = ctx.get("TENCENTCLOUD_SESSIONTOKEN").map(str::to_string);
    if let Some(c) = &cfg.credentials {
        let (session_token, session_token_source) = match &c.session_token {
            Some(t) => (
                Some(SecretString::from(t.expose_secret())),
                Some(Source::Init(&["sessionToken"])),
            ),
            None => (
                env_token.clone().map(SecretString::from),
                env_token.as_ref().map(|_| ENV_TOKEN),
            ),
        };
        return Ok(SourcedCredentials {
            pair: SecretPair {
                secret_id: c.secret_id.clone(),
                secret_key: c.secret_key.expose_secret().into(),
                session_token,
            },
            source: Source::Init(&["secretId", "secretKey"]),
            session_token_source,
        });
    }
    let id = ctx.non_empty("TENCENTCLOUD_SECRETID");
    let key = ctx.non_empty("TENCENTCLOUD_SECRETKEY");
    // The id goes in the `authorization` header and the key into the
    // signature: a secret file's trailing newline would make the request
    // unsendable (or its signature wrong), so it is named instead.
    for (name, value) in [
        ("TENCENTCLOUD_SECRETID", id),
        ("TENCENTCLOUD_SECRETKEY", key),
    ] {
        if let Some(why) = value.and_then(unsendable_token) {
            return Err(ApiError::invalid_param(format!(
                "environment variable {name} {why}"
            )));
        }
    }
    match (id, key) {
        (Some(id), Some(key)) => Ok(SourcedCredentials {
            pair: SecretPair {
                secret_id: id.to_string(),
                secret_key: key.into(),
                session_token: env_token.clone().map(SecretString::from),
            },
            source: Source::Env(&["TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY"]),
            session_token_source: env_token.as_ref().map(|_| ENV_TOKEN),
        }),
        (id, key) => {
            let mut missing = Vec::new();
            if id.is_none() {
                missing.push("TENCENTCLOUD_SECRETID");
            }
            if key.is_none() {
                missing.push("TENCENTCLOUD_SECRETKEY");
            }
            let w = cfg.wording;
            let half = match cfg.partial_credentials {
                Some(opt) => format!(" ({} only half a pair: `{opt}` is missing)", w.given_to()),
                None => String::new(),
            };
            let emulator = match w {
                crate::error::Wording::Node => "an emulator's cloudEnv()",
                crate::error::Wording::Rust => "an emulator's cloud_env() as the option processEnv",
            };
            let detail = format!(
                "missing credentials: {} not set in the environment{half}; run inside a cloud \
                 function, pass secretId and secretKey to {}, or use {emulator}",
                missing.join(" and "),
                w.init()
            );
            Err(ApiError::invalid_config(detail))
        }
    }
}

/// Build the `KeyValuePair`s of `requestData` from the params.
pub fn pairs(input: &CallInput) -> Result<Vec<KeyValuePair>, ApiError> {
    let Some(ConvertedParams {
        map,
        stand_in,
        media,
    }) = converted_params(input)?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, val) in map {
        let media = media
            .as_deref()
            .and_then(|prefix| media_ref(&val, prefix))
            .and_then(|i| input.media.get(i));
        if let Some(media) = media {
            let filename = match (&media.file_name, input.convert_case) {
                // With case conversion on, the reference looks for `fileName`
                // after it became `file_name`, so it never finds it.
                (Some(name), false) if !name.is_empty() => name.clone(),
                _ => format!("{key}.{}", extension_for(&media.content_type)),
            };
            // No `contenttype` (field 3): the reference builds a
            // `contentType` property its protobuf encoder ignores.
            out.push(KeyValuePair {
                key: restore_lone(key, stand_in),
                value: media.data.clone(),
                contenttype: String::new(),
                filename,
            });
        } else {
            out.push(KeyValuePair {
                value: restore_lone(json_text::write(&val), stand_in).into_bytes(),
                key: restore_lone(key, stand_in),
                contenttype: String::new(),
                filename: String::new(),
            });
        }
    }
    Ok(out)
}

/// One multipart field.
#[derive(Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub value: Vec<u8>,
    /// Sent with `Content-Type: application/octet-stream`.
    pub binary: bool,
}

/// A request ready for the transport.
pub struct Prepared {
    pub endpoint: Endpoint,
    /// Headers to send, besides `content-type` (set by the multipart encoder).
    pub headers: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
}

static CLOUDBASE_TOKEN_CACHE: Mutex<Option<(String, Instant)>> = Mutex::new(None);

/// The CloudBase Run token file, re-read at most every 10 minutes.
fn cloudbase_access_token_file() -> String {
    let mut cache = crate::lock::lock(&CLOUDBASE_TOKEN_CACHE);
    if let Some((token, at)) = cache.as_ref() {
        if !token.is_empty() && at.elapsed() < Duration::from_secs(600) {
            return token.clone();
        }
    }
    match std::fs::read_to_string(CLOUDBASE_ACCESS_TOKEN_PATH) {
        Ok(token) => {
            *cache = Some((token.clone(), Instant::now()));
            token
        }
        Err(_) => String::new(),
    }
}

/// The WeChat tokens of the multipart body (section 4): `(wxCloudApiToken,
/// wxCloudbaseAccesstoken)`; the second is absent when the first is set.
pub fn wx_tokens(ctx: &Context) -> (String, Option<String>) {
    let api_token = if ctx.get("TRIGGER_SRC") == Some("timer") {
        ctx.non_empty("WX_TRIGGER_API_TOKEN_V0")
            .or_else(|| ctx.non_empty("WX_API_TOKEN"))
    } else {
        ctx.non_empty("WX_API_TOKEN")
    }
    .unwrap_or("")
    .to_string();
    if !api_token.is_empty() {
        return (api_token, None);
    }
    let access = match ctx.non_empty("WX_CLOUDBASE_ACCESSTOKEN") {
        Some(t) => t.to_string(),
        None if ctx.is_cbr() => cloudbase_access_token_file(),
        None => String::new(),
    };
    (api_token, Some(access))
}

/// Every credential a cloud call sends or signs with: the secret key, the
/// session token, the WeChat tokens of the body (`WX_API_TOKEN`, the timer's
/// `WX_TRIGGER_API_TOKEN_V0`, `WX_CLOUDBASE_ACCESSTOKEN` or CloudBase Run's
/// token file) and `TCB_SESSIONTOKEN`: what must be scrubbed from a message
/// that quotes what the gateway received.
pub fn sent_credentials(ctx: &Context, pair: &SecretPair) -> Vec<String> {
    let mut out = vec![pair.secret_key.expose_secret().to_string()];
    out.extend(
        pair.session_token
            .as_ref()
            .map(|t| t.expose_secret().to_string()),
    );
    let (api_token, cloudbase) = wx_tokens(ctx);
    out.push(api_token);
    out.extend(cloudbase);
    for name in [
        "WX_API_TOKEN",
        "WX_TRIGGER_API_TOKEN_V0",
        "WX_CLOUDBASE_ACCESSTOKEN",
        "TCB_SESSIONTOKEN",
        "TENCENTCLOUD_SESSIONTOKEN",
    ] {
        out.extend(ctx.non_empty(name).map(str::to_string));
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The headers taken from the environment must be sendable as they are.
fn check_header_vars(ctx: &Context) -> Result<(), ApiError> {
    for name in ["TCB_SOURCE", "TCB_TRACELOG"] {
        if let Some(why) = ctx.non_empty(name).and_then(header_value_problem) {
            return Err(ApiError::invalid_param(format!(
                "environment variable {name} {why}"
            )));
        }
    }
    Ok(())
}

/// Why a header value cannot be sent (`http::HeaderValue` refuses control
/// characters other than tab), or `None`.
fn header_value_problem(v: &str) -> Option<String> {
    if http::HeaderValue::from_str(v).is_ok() {
        return None;
    }
    unsendable_token(v)
}

/// The multipart body's fields, in the reference's order.
fn fields(
    input: &CallInput,
    ctx: &Context,
    secrets: &SecretPair,
    endpoint: &Endpoint,
) -> Result<Vec<Field>, ApiError> {
    let request_data = encode_request(pairs(input)?, input.appid.as_deref());
    let (api_token, cloudbase_token) = wx_tokens(ctx);
    let mut fields = vec![
        Field {
            name: "action",
            value: b"wx.openApi".to_vec(),
            binary: false,
        },
        Field {
            name: "apiName",
            value: input.api.clone().into_bytes(),
            binary: false,
        },
        Field {
            name: "requestData",
            value: request_data,
            binary: true,
        },
        Field {
            name: "envName",
            value: endpoint.env_id.clone().into_bytes(),
            binary: false,
        },
        Field {
            name: "wxCloudApiToken",
            value: api_token.into_bytes(),
            binary: false,
        },
    ];
    if let Some(t) = cloudbase_token {
        fields.push(Field {
            name: "wxCloudbaseAccesstoken",
            value: t.into_bytes(),
            binary: false,
        });
    }
    fields.push(Field {
        name: "tcb_sessionToken",
        value: ctx
            .get("TCB_SESSIONTOKEN")
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
        binary: false,
    });
    if let Some(tok) = &secrets.session_token {
        fields.push(Field {
            name: "sessionToken",
            value: tok.expose_secret().as_bytes().to_vec(),
            binary: false,
        });
    }
    fields.push(Field {
        name: "crossAuthorizationToken",
        value: Vec::new(),
        binary: false,
    });
    Ok(fields)
}

/// The request's headers before the signature's own.
fn headers(ctx: &Context, endpoint: &Endpoint, now_ms: u64) -> Vec<(&'static str, String)> {
    let source = [ctx.get("TCB_SOURCE").unwrap_or(""), ",", ctx.run_env_tag()].concat();
    let mut headers: Vec<(&'static str, String)> = vec![
        ("user-agent", USER_AGENT.to_string()),
        ("x-tcb-source", source),
        ("x-client-timestamp", now_ms.to_string()),
        ("x-sdk-version", SDK_VERSION.to_string()),
        ("host", endpoint.host.clone()),
    ];
    if let Some(trace) = ctx.non_empty("TCB_TRACELOG") {
        headers.push(("x-tcb-tracelog", trace.to_string()));
    }
    if let Some(region) = &endpoint.region {
        headers.push(("x-tcb-region", region.clone()));
    }
    headers
}

/// A field's name as the signature lower-cases it: signing then
/// lower-cases (allocates) nothing for the body's fixed names.
fn signed_name(name: &'static str) -> &'static str {
    crate::cloud::sign::lowered_field_name(name).unwrap_or(name)
}

/// Build the whole signed request. `now_ms` is the current time in ms.
pub fn prepare(
    endpoint: Endpoint,
    input: &CallInput,
    ctx: &Context,
    secrets: &SecretPair,
    now_ms: u64,
) -> Result<Prepared, ApiError> {
    check_header_vars(ctx)?;
    let fields = fields(input, ctx, secrets, &endpoint)?;
    let mut headers = headers(ctx, &endpoint, now_ms);
    let mut signed_headers: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + 1);
    signed_headers.push(("content-type", "multipart/form-data"));
    signed_headers.extend(headers.iter().map(|(k, v)| (*k, v.as_str())));
    let params: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|f| (signed_name(f.name), f.value.as_slice()))
        .collect();
    let timestamp = (now_ms / 1000) as i64 - 1;
    let signed = sign(&SignRequest {
        method: "post",
        url: &endpoint.url,
        headers: &signed_headers,
        params: &params,
        secret_id: &secrets.secret_id,
        secret_key: secrets.secret_key.expose_secret(),
        timestamp,
    });
    headers.push(("authorization", signed.authorization));
    headers.push(("x-signature-expires", "600".to_string()));
    headers.push(("x-timestamp", timestamp.to_string()));
    Ok(Prepared {
        endpoint,
        headers,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::input::Media;
    use crate::cloud::endpoint;
    use crate::codes::INVALID_PARAM;

    fn input(json: &str) -> CallInput {
        CallInput {
            api: "tcb.createenvandresource".into(),
            params_json: Some(json.into()),
            convert_case: true,
            ..CallInput::default()
        }
    }

    #[test]
    fn basic_request_data_matches_recording() {
        let p = pairs(&input(
            r#"{"type":"CreatePostpayPackage","alias":"test-env"}"#,
        ))
        .unwrap();
        assert_eq!(
            hex::encode(encode_request(p, None)),
            "080012350a1e0a0474797065121622437265617465506f73747061795061636b616765220a130a05616c696173120a22746573742d656e7622"
        );
    }

    /// A call's input with out-of-band markers (`\u0000k` here).
    fn marked(json: &str) -> CallInput {
        CallInput {
            marker: Some("\u{0}k".into()),
            ..input(json)
        }
    }

    #[test]
    fn media_values_become_file_pairs_without_contenttype() {
        let mut i = marked(r#"{"imgData":"\u0000km0","x":1}"#);
        i.media.push(Media {
            content_type: "image/jpeg".into(),
            file_name: Some("a.jpg".into()),
            data: vec![1, 2],
        });
        let p = pairs(&i).unwrap();
        assert_eq!(p[0].key, "x");
        assert_eq!(p[1].key, "img_data");
        assert_eq!(p[1].value, vec![1, 2]);
        // The reference never sets KeyValuePair.contenttype (field 3).
        assert_eq!(p[1].contenttype, "");
        assert!(!hex::encode(encode_request(p.clone(), None)).contains(&hex::encode(b"image/jpeg")));
        assert_eq!(p[1].filename, "img_data.jpeg");
        i.convert_case = false;
        let p = pairs(&i).unwrap();
        assert_eq!(p[0].filename, "a.jpg");
    }

    #[test]
    fn bigints_are_written_as_numbers() {
        let p = pairs(&marked(r#"{"n":"\u0000kn123456789012345678901234567890"}"#)).unwrap();
        assert_eq!(p[0].value, b"123456789012345678901234567890");
    }

    #[test]
    fn undefined_takes_part_in_collisions_then_goes() {
        // {A_b: {...}, aB: undefined}: both become a_b; the later undefined wins, so a_b is dropped.
        let p = pairs(&marked(
            r#"{"A_b":{"x":1},"aB":"\u0000ku","k":["\u0000ku"]}"#,
        ))
        .unwrap();
        let keys: Vec<_> = p.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["k"]);
        assert_eq!(p[0].value, b"[null]");
    }

    #[test]
    fn extensions_as_mime_db_lists_them() {
        assert_eq!(extension_for("image/jpeg"), "jpeg");
        assert_eq!(extension_for("image/png"), "png");
        assert_eq!(extension_for("audio/mpeg"), "mpga");
        assert_eq!(extension_for("video/webm"), "webm");
        assert_eq!(extension_for("image/x-icon"), "ico");
        // Exactly the string: unknown (so png) with parameters or in upper case.
        assert_eq!(extension_for("image/jpeg; charset=binary"), "png");
        assert_eq!(extension_for("IMAGE/JPEG"), "png");
        assert_eq!(extension_for("application/x-made-up"), "png");
        assert_eq!(extension_for(""), "png");
    }

    #[test]
    fn user_strings_are_never_markers() {
        // The in-band markers of earlier versions, and this call's marker
        // when the input says it has none, stay the user's strings.
        let mut i = input(
            r#"{"a":"\u0000undefined","b":"\u0000bigint:12345","c":"\u0000ku","d":"\u0000kn1","e":"\u0000km0","\u0000wxmedia":0}"#,
        );
        i.media.push(Media {
            content_type: "image/png".into(),
            file_name: None,
            data: vec![1],
        });
        let p = pairs(&i).unwrap();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.key.clone(), String::from_utf8(p.value.clone()).unwrap()))
            .collect();
        let want: Vec<(String, String)> = [
            ("a", r#""\u0000undefined""#),
            ("b", r#""\u0000bigint:12345""#),
            ("c", r#""\u0000ku""#),
            ("d", r#""\u0000kn1""#),
            ("e", r#""\u0000km0""#),
            ("\u{0}wxmedia", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert!(p.iter().all(|p| p.filename.is_empty()));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let p = pairs(&input(
            r#"{"lone":"a\ud800b","pair":"\\ud800","real":"\ufffd"}"#,
        ))
        .unwrap();
        assert_eq!(p[0].value, "\"a\u{fffd}b\"".as_bytes());
        // A real U+FFFD is in json2's escape set.
        assert_eq!(p[2].value, br#""\ufffd""#);
        // An escaped backslash followed by text "ud800" is not a surrogate.
        assert_eq!(p[1].value, br#""\\ud800""#);
    }

    #[test]
    fn too_deep_params_are_rejected_by_name() {
        let json = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let err = pairs(&input(&json)).unwrap_err();
        assert_eq!(err.err_code, INVALID_PARAM);
        assert!(
            err.err_msg.contains("nested deeper than 128 levels"),
            "{}",
            err.err_msg
        );
    }

    #[test]
    fn non_object_params_are_rejected_with_a_clear_message() {
        let err = pairs(&input("[1,2]")).unwrap_err();
        assert!(
            err.err_msg.contains("params must be an object"),
            "{}",
            err.err_msg
        );
        assert!(pairs(&input("null")).unwrap().is_empty());
    }

    #[test]
    fn missing_credentials_name_the_variables() {
        let err = credentials(&Config::default(), &Context::default())
            .map_err(|e| e.for_api("openapi.x"))
            .unwrap_err();
        assert!(
            err.err_msg
                .contains("TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY"),
            "{}",
            err.err_msg
        );
        let ctx = Context::from_pairs([("TENCENTCLOUD_SECRETID", "id")]);
        let err = credentials(&Config::default(), &ctx)
            .map_err(|e| e.for_api("openapi.x"))
            .unwrap_err();
        assert!(
            err.err_msg.contains("TENCENTCLOUD_SECRETKEY") && !err.err_msg.contains("SECRETID")
        );
    }

    #[test]
    fn a_secret_id_that_cannot_be_sent_is_rejected_naming_it() {
        for bad in ["AKIDx\n", "AKIDx\r\n", "AKID x", "AKID\u{0}"] {
            let ctx = Context::from_pairs([
                ("TENCENTCLOUD_SECRETID", bad),
                ("TENCENTCLOUD_SECRETKEY", "k"),
            ]);
            let err = credentials(&Config::default(), &ctx)
                .map_err(|e| e.for_api("openapi.x"))
                .unwrap_err();
            assert_eq!(err.err_code, INVALID_PARAM, "{bad:?}");
            assert!(
                err.err_msg.contains("TENCENTCLOUD_SECRETID"),
                "{}",
                err.err_msg
            );
            assert!(!err.err_msg.contains("AKIDx"), "{}", err.err_msg);
        }
    }

    #[test]
    fn every_credential_sent_is_listed_for_scrubbing() {
        let pair = SecretPair {
            secret_id: "AKID".into(),
            secret_key: "KEY-1".into(),
            session_token: Some("SESSION-2".into()),
        };
        let ctx = Context::from_pairs([
            ("WX_API_TOKEN", "APITOKEN-3"),
            ("TCB_SESSIONTOKEN", "TCBSESSION-4"),
            ("WX_CLOUDBASE_ACCESSTOKEN", "CLOUDBASE-5"),
            ("WX_TRIGGER_API_TOKEN_V0", "TRIGGER-6"),
        ]);
        let listed = sent_credentials(&ctx, &pair);
        for s in [
            "KEY-1",
            "SESSION-2",
            "APITOKEN-3",
            "TCBSESSION-4",
            "CLOUDBASE-5",
            "TRIGGER-6",
        ] {
            assert!(listed.iter().any(|l| l == s), "{s}: {listed:?}");
        }
    }

    #[test]
    fn fields_and_headers_follow_the_contract() {
        let ctx = Context::from_pairs([
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_REGION", "ap-shanghai"),
            ("WX_API_TOKEN", "apitoken"),
        ]);
        let ep = endpoint::resolve(&Config::default(), &ctx, "test-env-123", "1_1");
        let secrets = SecretPair {
            secret_id: "AKID".into(),
            secret_key: "k".into(),
            session_token: None,
        };
        let p = prepare(ep, &input("{}"), &ctx, &secrets, 1_795_805_474_134).unwrap();
        let names: Vec<_> = p.fields.iter().map(|f| f.name).collect();
        // wxCloudbaseAccesstoken and sessionToken are undefined here, so left out.
        assert_eq!(
            names,
            [
                "action",
                "apiName",
                "requestData",
                "envName",
                "wxCloudApiToken",
                "tcb_sessionToken",
                "crossAuthorizationToken"
            ]
        );
        let auth = &p
            .headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .unwrap()
            .1;
        assert!(auth.starts_with("TC3-HMAC-SHA256 Credential=AKID/2026-11-27/tcb/tc3_request, SignedParams=action;apiname;envname;requestdata;wxcloudapitoken, SignedHeaders=content-type;host;user-agent;x-client-timestamp;x-sdk-version;x-tcb-region;x-tcb-source,"), "{auth}");
        assert!(p
            .headers
            .contains(&("x-timestamp", "1795805473".to_string())));
        assert!(p.headers.contains(&("x-tcb-source", ",scf".to_string())));
    }

    #[test]
    fn every_field_is_signed_under_its_lower_case_name() {
        // Every field there is: a cloudbase token (no WX_API_TOKEN) and a
        // session token.
        let ctx = Context::from_pairs([("WX_CLOUDBASE_ACCESSTOKEN", "cb")]);
        let secrets = SecretPair {
            secret_id: "AKID".into(),
            secret_key: "k".into(),
            session_token: Some("st".into()),
        };
        let ep = endpoint::resolve(&Config::default(), &ctx, "e", "1_1");
        let p = prepare(ep, &input("{}"), &ctx, &secrets, 1_795_805_474_134).unwrap();
        assert_eq!(p.fields.len(), 9);
        for f in &p.fields {
            assert_eq!(signed_name(f.name), f.name.to_lowercase());
        }
        // Signing the names as sent gives the same signature.
        let params: Vec<(&str, &[u8])> = p
            .fields
            .iter()
            .map(|f| (f.name, f.value.as_slice()))
            .collect();
        let header = |name: &str| {
            p.headers
                .iter()
                .find(|(k, _)| *k == name)
                .unwrap()
                .1
                .clone()
        };
        let mut headers = vec![("content-type", "multipart/form-data")];
        headers.extend(p.headers.iter().take(5).map(|(k, v)| (*k, v.as_str())));
        let signed = sign(&SignRequest {
            method: "post",
            url: &p.endpoint.url,
            headers: &headers,
            params: &params,
            secret_id: "AKID",
            secret_key: "k",
            timestamp: header("x-timestamp").parse().unwrap(),
        });
        assert_eq!(signed.authorization, header("authorization"));
    }

    #[test]
    fn timer_trigger_prefers_v0_token() {
        let ctx = Context::from_pairs([
            ("TRIGGER_SRC", "timer"),
            ("WX_TRIGGER_API_TOKEN_V0", "v0"),
            ("WX_API_TOKEN", "t"),
        ]);
        assert_eq!(wx_tokens(&ctx), ("v0".to_string(), None));
        let ctx = Context::from_pairs([("WX_CLOUDBASE_ACCESSTOKEN", "cb")]);
        assert_eq!(wx_tokens(&ctx), (String::new(), Some("cb".to_string())));
    }
}
