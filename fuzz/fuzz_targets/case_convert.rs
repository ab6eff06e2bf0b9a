//! camelCase ⇄ snake_case over arbitrary JSON: never a panic, the shape
//! (types, array lengths, member counts at most) is kept, and values are
//! untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wx_cloud_core::wire::{to_camel, to_snake};

/// Same JSON type and, for arrays, same length; objects never gain members
/// (colliding keys may merge).
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Object(x), Value::Object(y)) => y.len() <= x.len(),
        (Value::Object(_), _) | (_, Value::Object(_)) => false,
        (Value::Array(_), _) | (_, Value::Array(_)) => false,
        (p, q) => p == q,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let snake = to_snake(v.clone());
    assert!(same_shape(&v, &snake));
    let camel = to_camel(v.clone());
    assert!(same_shape(&v, &camel));
    let _ = to_camel(snake);
    let _ = to_snake(camel);
});
