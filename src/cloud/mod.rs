//! The cloud call: a signed multipart request to the cloud-base gateway.

pub mod answer;
pub mod endpoint;
pub mod proto;
pub mod request;
pub mod sign;
