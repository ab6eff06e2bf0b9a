//! JSON of any depth, as `JSON.parse` reads it: parse, walk, write and drop
//! a [`Value`] nested millions of levels deep without overflowing the stack.
//!
//! serde_json stops at 128 levels, and every recursive walk of a `Value`
//! (including its `Drop`) uses stack in proportion to the depth. Here the
//! recursion runs on a stack that grows on the heap when the current one is
//! nearly used up ([`stacker`]), and dropping is iterative.
#![warn(missing_docs)]

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Stack that must be left before a recursive step runs on a new segment.
const RED_ZONE: usize = 64 * 1024;
/// Size of each new stack segment.
const SEGMENT: usize = 1024 * 1024;

/// Run one step of a recursion that may go arbitrarily deep.
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Parse JSON text of any depth (serde_json's rules otherwise).
pub fn parse(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let mut stacked = serde_stacker::Deserializer::new(&mut de);
    stacked.red_zone = RED_ZONE;
    stacked.stack_size = SEGMENT;
    let value = Value::deserialize(stacked)?;
    if let Err(e) = de.end() {
        drop_value(value);
        return Err(e);
    }
    Ok(value)
}

/// JSON text of a value of any depth (as `serde_json::to_string`).
pub fn to_string(v: &Value) -> serde_json::Result<String> {
    serde_json::to_string(&Deep(v))
}

/// Drop a value of any depth without recursion.
pub fn drop_value(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Serialises the value it wraps, growing the stack as it goes down.
struct Deep<'a>(&'a Value);

impl Serialize for Deep<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        deep(|| match self.0 {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Deep(item))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, &Deep(v))?;
                }
                m.end()
            }
            other => other.serialize(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_values_round_trip_on_a_small_stack() {
        // A 256 KB thread stack: recursion without growth would overflow
        // after a few thousand levels.
        let text = format!("{}1{}", "[".repeat(300_000), "]".repeat(300_000));
        let out = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let v = parse(&text).unwrap();
                let written = to_string(&v).unwrap();
                drop_value(v);
                written == text
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(out);
    }

    #[test]
    fn trailing_garbage_and_bad_text_are_errors() {
        assert!(parse("[1] x").is_err());
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert_eq!(
            to_string(&parse(r#"{"a":[1.50,{"b":null}]}"#).unwrap()).unwrap(),
            r#"{"a":[1.50,{"b":null}]}"#
        );
    }
}
