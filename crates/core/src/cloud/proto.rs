//! The protobuf messages of a cloud call (`cloud-call-wire.md`, section 5),
//! written by hand with `prost` derives (no build step).
//!
//! `CommApiData` is declared with explicit presence for `apiType` and
//! `openapiData` so that its encoding matches the reference byte for byte:
//! it always starts `08 00 12 …`, even for an empty parameter object
//! (`08 00 12 00`).
#![warn(missing_docs)]

/// One top-level parameter of the call.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct KeyValuePair {
    /// Parameter name (snake_case unless case conversion is off).
    #[prost(string, tag = "1")]
    pub key: ::prost::alloc::string::String,
    /// UTF-8 JSON text of the value, or the raw bytes of a media upload.
    #[prost(bytes = "vec", tag = "2")]
    pub value: ::prost::alloc::vec::Vec<u8>,
    /// MIME type of a media upload, else empty.
    #[prost(string, tag = "3")]
    pub contenttype: ::prost::alloc::string::String,
    /// File name of a media upload, else empty.
    #[prost(string, tag = "4")]
    pub filename: ::prost::alloc::string::String,
}

/// The parameters of an open API call.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OpenApiData {
    /// One pair per top-level parameter, in the converted object's key order.
    #[prost(message, repeated, tag = "1")]
    pub pairs: ::prost::alloc::vec::Vec<KeyValuePair>,
}

/// `CommApiData.ApiType`: which kind of call `requestData` carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ApiType {
    /// An open (WeChat) API call: the only kind this SDK makes.
    OpenApi = 0,
    /// Internal API (unused here).
    InnerApi = 1,
    /// Svrkit API (unused here).
    SvrkitApi = 2,
    /// Token API (unused here).
    TokenApi = 3,
}

/// The `requestData` form field.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CommApiData {
    /// `ApiType`, written explicitly even when 0 (bytes `08 00`).
    #[prost(int32, optional, tag = "1")]
    pub api_type: ::core::option::Option<i32>,
    /// The parameters, written even when there are none (bytes `12 00`).
    #[prost(message, optional, tag = "2")]
    pub openapi_data: ::core::option::Option<OpenApiData>,
    /// The `appid` option of `openapi({appid})`, only when given.
    #[prost(string, optional, tag = "6")]
    pub appid: ::core::option::Option<::prost::alloc::string::String>,
}

/// One HTTP header of WeChat's answer.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct HttpHeader {
    /// Header name.
    #[prost(string, tag = "1")]
    pub key: ::prost::alloc::string::String,
    /// Header value.
    #[prost(string, tag = "2")]
    pub value: ::prost::alloc::string::String,
}

/// The gateway's answer body on HTTP 200.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CommOpenApiResp {
    /// WeChat's answer body.
    #[prost(bytes = "vec", tag = "1")]
    pub resp_data: ::prost::alloc::vec::Vec<u8>,
    /// WeChat's answer content type.
    #[prost(string, tag = "2")]
    pub content_type: ::prost::alloc::string::String,
    /// Platform error code (0 = none), e.g. -604101.
    #[prost(int32, tag = "3")]
    pub error_code: i32,
    /// WeChat's HTTP status.
    #[prost(uint32, tag = "4")]
    pub http_code: u32,
    /// WeChat's answer headers.
    #[prost(message, repeated, tag = "5")]
    pub headers: ::prost::alloc::vec::Vec<HttpHeader>,
    /// Svrkit error code (0 = none).
    #[prost(int32, tag = "6")]
    pub svrkit_error_code: i32,
}

/// Encode the `requestData` of an open API call: `apiType = OPEN_API`, the
/// given pairs, and `appid` only when given.
pub fn encode_request(pairs: Vec<KeyValuePair>, appid: Option<&str>) -> Vec<u8> {
    use prost::Message;
    CommApiData {
        api_type: Some(ApiType::OpenApi as i32),
        openapi_data: Some(OpenApiData { pairs }),
        appid: appid.map(str::to_string),
    }
    .encode_to_vec()
}

/// Decode a gateway answer body as a [`CommOpenApiResp`].
pub fn decode_response(bytes: &[u8]) -> Result<CommOpenApiResp, prost::DecodeError> {
    use prost::Message;
    CommOpenApiResp::decode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn expected(name: &str) -> Vec<u8> {
        let case = crate::test_support::request_case(name);
        hex::decode(case["requestData_hex"].as_str().unwrap()).unwrap()
    }

    fn pair(key: &str, json: &str) -> KeyValuePair {
        KeyValuePair {
            key: key.to_string(),
            value: json.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn basic_request_encodes_identically() {
        let bytes = encode_request(
            vec![
                pair("type", "\"CreatePostpayPackage\""),
                pair("alias", "\"test-env\""),
            ],
            None,
        );
        assert_eq!(hex::encode(&bytes), hex::encode(expected("basic")));
    }

    #[test]
    fn appid_option_encodes_identically() {
        let bytes = encode_request(
            vec![
                pair("type", "\"CreatePostpayPackage\""),
                pair("alias", "\"x\""),
            ],
            Some("wx1234567890abcdef"),
        );
        assert_eq!(hex::encode(&bytes), hex::encode(expected("appid-option")));
    }

    #[test]
    fn empty_object_encodes_identically() {
        let bytes = encode_request(Vec::new(), None);
        assert_eq!(bytes, expected("empty-object"));
        assert_eq!(bytes, [0x08, 0x00, 0x12, 0x00]);
    }

    #[test]
    fn response_round_trips() {
        let resp = CommOpenApiResp {
            resp_data: b"{\"errcode\":0}".to_vec(),
            content_type: "application/json".into(),
            error_code: -604101,
            http_code: 200,
            headers: vec![HttpHeader {
                key: "k".into(),
                value: "v".into(),
            }],
            svrkit_error_code: 7,
        };
        let bytes = resp.encode_to_vec();
        assert_eq!(decode_response(&bytes).unwrap(), resp);
        assert_eq!(decode_response(&[]).unwrap(), CommOpenApiResp::default());
    }

    #[test]
    fn request_decodes_back() {
        let bytes = expected("appid-option");
        let data = CommApiData::decode(bytes.as_slice()).unwrap();
        assert_eq!(data.api_type, Some(0));
        assert_eq!(data.appid.as_deref(), Some("wx1234567890abcdef"));
        assert_eq!(data.openapi_data.unwrap().pairs.len(), 2);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_response("ÿþ\u{0}garbage".as_bytes()).is_err());
        assert!(decode_response(&[0xff; 64]).is_err());
        assert!(decode_response(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
