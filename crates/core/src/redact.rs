//! Secrets out of text: every message, log line and debug line that could
//! quote a token, a secret or a URL's password passes through here.

/// Names whose values are secrets, as query parameters (`name=value`) or as
/// JSON members (`"name":"value"`).
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "component_access_token",
    "authorizer_access_token",
    "authorizer_refresh_token",
    "refresh_token",
    "component_verify_ticket",
    "component_appsecret",
    "secret",
    "appsecret",
    "accessToken",
    "authorizerAccessToken",
    "authorizerRefreshToken",
    "componentAppsecret",
];

/// Replace the values of secret-bearing query parameters and JSON members in
/// any text (`access_token=…` → `access_token=***`,
/// `"secret":"…"` → `"secret":"***"`).
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for name in SECRET_NAMES {
        out = redact_after(
            &out,
            &format!("{name}="),
            &['&', ' ', ')', '"', '\'', '\n', ']'],
        );
        out = redact_json_member(&out, name);
    }
    out
}

/// Replace what follows each `key` up to one of `stops` with `***`.
fn redact_after(text: &str, key: &str, stops: &[char]) -> String {
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(pos) = out[from..].find(key) {
        let start = from + pos + key.len();
        let end = out[start..]
            .find(stops)
            .map(|e| start + e)
            .unwrap_or(out.len());
        out.replace_range(start..end, "***");
        from = start + 3;
    }
    out
}

/// `"name":"value"` (any white space around the colon) → `"name":"***"`.
fn redact_json_member(text: &str, name: &str) -> String {
    let key = format!("\"{name}\"");
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(pos) = out[from..].find(&key) {
        let after_key = from + pos + key.len();
        let rest = &out[after_key..];
        let trimmed = rest.trim_start();
        let Some(after_colon) = trimmed.strip_prefix(':') else {
            from = after_key;
            continue;
        };
        let value = after_colon.trim_start();
        if !value.starts_with('"') {
            from = after_key;
            continue;
        }
        let value_start = out.len() - value.len() + 1;
        // find the closing quote, skipping escaped characters
        let bytes = out.as_bytes();
        let mut i = value_start;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let end = i.min(out.len());
        out.replace_range(value_start..end, "***");
        from = value_start + 3;
    }
    out
}

/// Replace every occurrence of each known secret value (at least 4
/// characters long) in `text` with `***`, then [`redact`] it: for text that
/// may quote a secret anywhere (an answer body, a user callback's error).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 4 && out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    redact(&out)
}

/// A URL with any `user:password@` replaced by `***@`, the rest of the text
/// as it is: how every URL (proxy, `serviceUrl`, `apiBaseUrl`,
/// `TCB_CONTEXT_CNFG`, `WX_API_BASE_URL`) is shown in messages.
pub fn redact_url_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let start = scheme_end + 3;
    let end = url[start..]
        .find(['/', '?', '#', '\\'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_tokens() {
        assert_eq!(
            redact("POST /tcb/x?access_token=ABC123&y=1 failed"),
            "POST /tcb/x?access_token=***&y=1 failed"
        );
        assert_eq!(
            redact("component_access_token=Z authorizer_access_token=Q"),
            "component_access_token=*** authorizer_access_token=***"
        );
        assert_eq!(
            redact(r#"{"access_token": "T1","expires_in":7200,"authorizer_refresh_token":"R\"X"}"#),
            r#"{"access_token": "***","expires_in":7200,"authorizer_refresh_token":"***"}"#
        );
        assert_eq!(
            redact("GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3"),
            "GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=***"
        );
        assert_eq!(
            scrub("stored TOKEN-123 failed", &["TOKEN-123", "x"]),
            "stored *** failed"
        );
    }

    #[test]
    fn redact_never_panics_on_odd_text() {
        for text in [
            "\"secret\":\"abc\\",
            "\"secret\":\"é\\é\"",
            "\"secret\" : \"x\" \"secret\"",
            "\"secret\":5,\"secret\":\"",
            "access_token=",
            "access_token=é&secret=日本",
            "secret=secret=secret=",
        ] {
            let out = redact(text);
            assert!(!out.contains("abc") && !out.contains("日本"), "{out}");
        }
    }

    #[test]
    fn url_passwords_are_redacted_as_text() {
        assert_eq!(
            redact_url_userinfo("http://user:PASS@127.0.0.1:9/admin?x=1"),
            "http://***@127.0.0.1:9/admin?x=1"
        );
        assert_eq!(
            redact_url_userinfo("http://127.0.0.1:9/a@b"),
            "http://127.0.0.1:9/a@b"
        );
        assert_eq!(redact_url_userinfo("https://h"), "https://h");
    }
}
