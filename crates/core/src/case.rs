//! camelCase ⇄ snake_case conversion of parameter and answer keys, with the
//! reference SDK's ordering rules (`cloud-call-wire.md`, section 7).
//!
//! The reference (`convertCase` in wx-server-sdk) converts an object by
//! copying it and running a `for…in` over the copy while mutating it:
//! for each key still present it assigns `data[convertedKey] = value` (an
//! existing key keeps its position, a new key goes to the end) and deletes the
//! original key when it changed. Keys added during the loop are not visited.
//! [`to_snake`] and [`to_camel`] reproduce the resulting key order exactly,
//! in linear time.
//!
//! Only ASCII letters are affected. JavaScript puts integer-like keys first in
//! every object; conversion never creates such keys, so the input order (which
//! must already follow that rule) is all that matters here.
#![warn(missing_docs)]

use std::collections::HashMap;

use serde_json::{Map, Value};

/// `someCamelKey` → `some_camel_key`: every ASCII upper-case letter becomes
/// `_` + its lower case, except at the very start, where it is only
/// lower-cased (`ALIAS` → `a_l_i_a_s`, `XMLHttp` → `x_m_l_http`).
pub fn camel_to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `resource_list` → `resourceList`: every `_` followed by an ASCII
/// lower-case letter becomes that letter upper-cased, scanning left to right
/// without overlap (`a__b` → `a_B`, `_a` → `A`).
pub fn snake_to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            if let Some(&next) = chars.peek() {
                if next.is_ascii_lowercase() {
                    out.push(next.to_ascii_uppercase());
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Request side: convert every object key, recursively through objects and
/// arrays, from camelCase to snake_case, ordering keys like the reference.
pub fn to_snake(v: Value) -> Value {
    convert(v, &camel_to_snake)
}

/// Answer side: convert every object key, recursively through objects and
/// arrays, from snake_case to camelCase, ordering keys like the reference.
pub fn to_camel(v: Value) -> Value {
    convert(v, &snake_to_camel)
}

/// One object's keys from snake_case to camelCase, ordered like the
/// reference, leaving its values as they are: for answers converted
/// bottom-up as they are parsed (see `json_deep::parse`), whose values are
/// converted already.
pub fn object_to_camel(m: Map<String, Value>) -> Map<String, Value> {
    convert_object(m, &snake_to_camel, false)
}

fn convert(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(convert_object(m, f, true)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(_) | Value::Array(_) => convert(item, f),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

/// The reference's `convertObject`, simulated on a slot list: deleting a key
/// empties its slot, a new key appends a slot, an existing key's slot is
/// overwritten in place. Only the original keys are visited, in order, and
/// only while still present.
fn convert_object(
    m: Map<String, Value>,
    f: &dyn Fn(&str) -> String,
    values_too: bool,
) -> Map<String, Value> {
    let mut converted: Vec<String> = m.keys().map(|k| f(k)).collect();
    // Most objects (an answer's `errcode`, `errmsg`, ...) have no key that
    // converts: then every assignment of the loop keeps its key's place and
    // nothing is deleted, so the object stays as it is but for its values.
    if m.keys().zip(&converted).all(|(k, c)| k == c) {
        let mut m = m;
        if values_too {
            for v in m.values_mut() {
                if matches!(v, Value::Object(_) | Value::Array(_)) {
                    *v = convert(std::mem::take(v), f);
                }
            }
        }
        return m;
    }
    let original = m.len();
    let mut slots: Vec<Option<(String, Value)>> = Vec::with_capacity(original);
    let mut index: HashMap<String, usize> = HashMap::with_capacity(original);
    for (k, v) in m {
        index.insert(k.clone(), slots.len());
        slots.push(Some((k, v)));
    }
    for i in 0..original {
        let Some((key, val)) = slots.get_mut(i).and_then(Option::take) else {
            continue;
        };
        let val = match val {
            Value::Object(_) | Value::Array(_) if values_too => convert(val, f),
            other => other,
        };
        // Slot `i` (`i` < `original`) holds the `i`-th original key.
        let converted = std::mem::take(&mut converted[i]);
        if converted == key {
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some((key, val));
            }
            continue;
        }
        match index.get(&converted).copied() {
            Some(j) => {
                if let Some(slot) = slots.get_mut(j) {
                    // The value it overwrites may be deep.
                    if let Some((_, old)) = slot.replace((converted, val)) {
                        crate::json_deep::drop_value(old);
                    }
                }
            }
            None => {
                index.insert(converted.clone(), slots.len());
                slots.push(Some((converted, val)));
            }
        }
        // The original key is deleted: its slot stays empty.
        index.remove(&key);
    }
    let mut out = Map::with_capacity(slots.len());
    for (k, v) in slots.into_iter().flatten() {
        out.insert(k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn key_conversion() {
        assert_eq!(camel_to_snake("someCamelKey"), "some_camel_key");
        assert_eq!(camel_to_snake("ALIAS"), "a_l_i_a_s");
        assert_eq!(camel_to_snake("XMLHttp"), "x_m_l_http");
        assert_eq!(camel_to_snake("Type"), "type");
        assert_eq!(camel_to_snake("already_snake"), "already_snake");
        assert_eq!(camel_to_snake("ÄbC"), "Äb_c");
        assert_eq!(camel_to_snake(""), "");
        assert_eq!(snake_to_camel("resource_list"), "resourceList");
        assert_eq!(snake_to_camel("a__b"), "a_B");
        assert_eq!(snake_to_camel("_a"), "A");
        assert_eq!(snake_to_camel("a_"), "a_");
        assert_eq!(snake_to_camel("a_1"), "a_1");
        assert_eq!(snake_to_camel("a_B"), "a_B");
        assert_eq!(snake_to_camel("a___b_c"), "a__BC");
    }

    #[test]
    fn converted_keys_move_to_end() {
        let v = to_snake(parse(r#"{"aB":1,"c":2,"dE":3,"f":4}"#));
        assert_eq!(keys(&v), ["c", "f", "a_b", "d_e"]);
    }

    #[test]
    fn collisions() {
        let v = to_snake(parse(r#"{"a_b":1,"aB":2}"#));
        assert_eq!(v.to_string(), r#"{"a_b":2}"#);
        let v = to_snake(parse(r#"{"aB":2,"a_b":1}"#));
        assert_eq!(v.to_string(), r#"{"a_b":2}"#);
        // The overwritten key keeps its position before later keys.
        let v = to_snake(parse(r#"{"aB":2,"x":0,"a_b":1,"yZ":3}"#));
        assert_eq!(v.to_string(), r#"{"x":0,"a_b":2,"y_z":3}"#);
        let v = to_snake(parse(r#"{"a_b":1,"x":0,"aB":2}"#));
        assert_eq!(v.to_string(), r#"{"a_b":2,"x":0}"#);
    }

    #[test]
    fn answer_reordered() {
        let v = to_camel(parse(
            r#"{"some_key":{"inner_key":1,"b":2},"x":1,"a__b":3}"#,
        ));
        assert_eq!(
            v.to_string(),
            r#"{"x":1,"someKey":{"b":2,"innerKey":1},"a_B":3}"#
        );
    }

    #[test]
    fn recursion_through_arrays() {
        let v = to_snake(parse(
            r#"{"x":{"pQ":1,"r":2},"arr":[{"mN":1,"o":2},[{"zZ":1}],3,"aB"]}"#,
        ));
        assert_eq!(
            v.to_string(),
            r#"{"x":{"r":2,"p_q":1},"arr":[{"o":2,"m_n":1},[{"z_z":1}],3,"aB"]}"#
        );
        let v = to_camel(parse(r#"[{"a_b":[{"c_d":1}]},null]"#));
        assert_eq!(v.to_string(), r#"[{"aB":[{"cD":1}]},null]"#);
        assert_eq!(to_camel(parse("5")), parse("5"));
    }

    /// Compares with the reference implementation when node and the
    /// reference SDK are available; otherwise it is a no-op.
    #[test]
    fn matches_reference_when_available() {
        let sdk = "/work/main/node_modules/wx-server-sdk/index.js";
        if !std::path::Path::new(sdk).exists() {
            return;
        }
        let cases = [
            r#"{"aB":1,"c":2,"dE":3,"f":4}"#,
            r#"{"a_b":1,"aB":2}"#,
            r#"{"aB":2,"a_b":1}"#,
            r#"{"aB":2,"x":0,"a_b":1,"yZ":3,"y_z":9}"#,
            r#"{"y_z":9,"aB":{"cD":[{"eF":1,"e_f":2}]},"a_b":1,"yZ":3}"#,
            r#"{"some_key":{"inner_key":1,"b":2},"x":1,"a__b":3,"_a":1,"A":2}"#,
            r#"{"a_b":1,"aB":2,"a__b":3,"a_B":4,"AB":5}"#,
        ];
        let script = format!(
            r#"
const src = require('fs').readFileSync({sdk:?}, 'utf8');
const start = src.indexOf('exports.convertCase = (input, options) =>');
const end = src.indexOf('exports.isSCFEnvReady', start);
const type_1 = {{ isString: x => typeof x === 'string', isObject: x => Object.prototype.toString.call(x) === '[object Object]', isArray: Array.isArray }};
const signature_1 = {{ MidasSignature: class {{}} }};
const ignoreInConvert = () => false;
const exports = {{}};
eval(src.slice(start, end));
const out = [];
for (const c of {cases}) {{
  const v = JSON.parse(c);
  out.push(JSON.stringify(exports.convertCase(v, {{from:'camelcase',to:'snakecase',recursive:true}})));
  out.push(JSON.stringify(exports.convertCase(v, {{from:'snakecase',to:'camelcase',recursive:true}})));
}}
console.log(JSON.stringify(out));
"#,
            cases = serde_json::to_string(&cases).unwrap()
        );
        let Ok(output) = std::process::Command::new("node")
            .arg("-e")
            .arg(&script)
            .output()
        else {
            return;
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
        let mut got = Vec::new();
        for c in cases {
            got.push(to_snake(parse(c)).to_string());
            got.push(to_camel(parse(c)).to_string());
        }
        assert_eq!(got, expected);
    }
}
