//! The signature of `cloud.signature({ type: 'midas', params, secret })`,
//! computed as wx-server-sdk 4.0.2 computes it: HMAC-SHA256, keyed with the
//! secret, of `{name}={value}&…&org_loc={path}&method={method}&secret={secret}`
//! over the listed params (sorted, then snake_cased: `names`), their values
//! as the call sends them, and the API's HTTPS path. The hex digest goes in
//! place of the value, in the cloud call and in the HTTPS modes alike.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::paths;

/// The route a midas API signs (`midas.getBalance`, … and their Sandbox
/// twins): its method and path; `None` for any other API.
pub fn route(api: &str) -> Option<(&'static str, &'static str)> {
    let route = paths::route(api).filter(|_| api.starts_with("midas."))?;
    Some((route.method.as_str(), route.path.as_str()))
}

/// The names `cloud.signature({ params })` signs, as wx-server-sdk 4.0.2
/// makes them: sorted (as JavaScript sorts strings, by UTF-16 code units),
/// then snake_cased.
pub fn signed_names(mut params: Vec<String>) -> Vec<String> {
    params.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    params
        .iter()
        .map(|p| crate::case::camel_to_snake(p))
        .collect()
}

/// For each name of the params as the call sends them (top-level keys
/// converted as wx-server-sdk converts them, a later conversion overwriting
/// an earlier key) the top-level key whose value it carries.
pub fn sent_keys(keys: Vec<String>, convert_case: bool) -> Map<String, Value> {
    let own: Map<String, Value> = keys
        .into_iter()
        .map(|k| (k.clone(), Value::String(k)))
        .collect();
    match convert_case {
        true => match crate::case::to_snake(Value::Object(own)) {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        false => own,
    }
}

/// The hex signature of `fields` (`(name, value)`, in the order of the
/// signed names) for the API at `method` `path`.
pub fn sign(method: &str, path: &str, secret: &str, fields: &[(String, String)]) -> String {
    let mut source = String::new();
    for (name, value) in fields {
        source.push_str(&format!("{name}={value}&"));
    }
    source.push_str(&format!("org_loc={path}&method={method}&secret={secret}"));
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(source.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_names_sort_then_snake_case() {
        let params = ["zoneId", "openid", "appId", "\u{ff5e}", "\u{1f600}"];
        assert_eq!(
            signed_names(params.iter().map(|p| p.to_string()).collect()),
            // JavaScript's sort puts the surrogate pair (U+D83D…) before U+FF5E.
            ["app_id", "openid", "zone_id", "\u{1f600}", "\u{ff5e}"]
        );
    }

    #[test]
    fn signs_as_the_reference() {
        // node -e "crypto.createHmac('sha256','s').update('openid=o&org_loc=/cgi-bin/midas/getbalance&method=POST&secret=s').digest('hex')"
        let fields = [("openid".to_string(), "o".to_string())];
        assert_eq!(
            sign("POST", "/cgi-bin/midas/getbalance", "s", &fields),
            "1e971173f813c99db6420c1baf12fd890ce57dd224a7264b9ba5bdf6bcdbdff7"
        );
        assert_eq!(
            route("midas.getBalance"),
            Some(("POST", "/cgi-bin/midas/getbalance"))
        );
        assert_eq!(route("tcb.createenvandresource"), None);
    }

    #[test]
    fn a_converted_key_carries_the_value_wx_server_sdk_sends() {
        let keys = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let m = sent_keys(keys(&["offerId", "offer_id", "zoneId"]), true);
        assert_eq!(m["offer_id"], "offerId");
        assert_eq!(m["zone_id"], "zoneId");
        assert_eq!(sent_keys(keys(&["offerId"]), false)["offerId"], "offerId");
    }
}
