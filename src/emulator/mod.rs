//! The local emulator of the cloud-base gateway and of the WeChat HTTPS API.
