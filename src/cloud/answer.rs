//! TEMP STUB
use crate::error::ApiError;
pub enum Success {
    Json(String),
    Binary { content_type: String, data: Vec<u8> },
}
pub fn decode_gateway(
    _api: &str,
    _status: u16,
    _content_type: &str,
    body: &[u8],
    _convert_case: bool,
    _url_for_msg: &str,
) -> Result<Success, ApiError> {
    Ok(Success::Binary {
        content_type: String::new(),
        data: body.to_vec(),
    })
}
