//! The emulator's gateway door: multipart parsing and the TC3 signature
//! check on arbitrary requests. Input: four lines (content-type,
//! authorization, x-timestamp, host), then the body. Never a panic; a
//! forged signature is never accepted.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wx_cloud_emulator::gateway::{parse_multipart, verify};

fn split_lines(data: &[u8], n: usize) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::with_capacity(n);
    let mut rest = data;
    for _ in 0..n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                lines.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                lines.push(rest);
                rest = &[];
            }
        }
    }
    (lines, rest)
}

fuzz_target!(|data: &[u8]| {
    let (lines, body) = split_lines(data, 4);
    let ct = String::from_utf8_lossy(lines[0]).into_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let parsed = rt.block_on(parse_multipart(&ct, Bytes::copy_from_slice(body)));
    let Ok(fields) = parsed else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    for (name, line) in ["content-type", "authorization", "x-timestamp", "host"]
        .iter()
        .zip(&lines)
    {
        if let Ok(v) = http::HeaderValue::from_bytes(line) {
            headers.insert(*name, v);
        }
    }
    let pairs = vec![("AKIDfuzz".to_string(), "fuzz-secret-key".to_string())];
    let now = 1_700_000_000;
    // Without the secret key no input can carry a valid signature (the
    // chance of guessing HMAC-SHA256 is nil): acceptance would be a bug.
    if verify(&headers, "/admin?env=e", &fields, &pairs, now).is_ok() {
        panic!("a request signed without the key was accepted");
    }
});
