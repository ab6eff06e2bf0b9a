//! JSON of any depth, as `JSON.parse` reads it: parse, write and drop a
//! [`Value`] nested millions of levels deep, without recursion.
//!
//! serde_json stops at 128 levels, and every recursive walk of a `Value`
//! (its `Drop` included) uses stack in proportion to the depth, which a
//! hostile answer controls. Here the parser keeps its open containers in a
//! `Vec` (memory in proportion to the depth, like `JSON.parse`'s, and far
//! below the answer's own size limit), and writing and dropping walk with an
//! explicit stack too. Scalars (strings with their escapes, numbers with
//! their text) are read by serde_json, so the grammar is serde_json's
//! (RFC 8259, which is `JSON.parse`'s).
//!
//! The caller sees each object once, when it is complete and its members
//! are final (see [`parse`]): whatever it does to an object there (key
//! order, case conversion) is done bottom-up, without walking the tree again.
#![warn(missing_docs)]

use serde_json::{Map, Number, Value};

/// An open container while parsing.
enum Open {
    Array(Vec<Value>),
    /// The object so far and the key whose value comes next.
    Object(Map<String, Value>, String),
}

/// Parse JSON text of any depth. `finish_object` gets every object once it
/// is complete (innermost first) and returns what takes its place.
/// `None`: not JSON.
pub fn parse(
    text: &str,
    finish_object: &mut dyn FnMut(Map<String, Value>) -> Map<String, Value>,
) -> Option<Value> {
    let mut open = Vec::new();
    let parsed = parse_into(text, &mut open, finish_object);
    // On an error, what was built so far is dropped without recursion.
    for o in open {
        match o {
            Open::Array(items) => drop_value(Value::Array(items)),
            Open::Object(map, _) => drop_value(Value::Object(map)),
        }
    }
    parsed
}

fn parse_into(
    text: &str,
    open: &mut Vec<Open>,
    finish_object: &mut dyn FnMut(Map<String, Value>) -> Map<String, Value>,
) -> Option<Value> {
    let mut i = 0;
    loop {
        let value;
        (value, i) = value_at(text, skip_ws(text.as_bytes(), i), open, finish_object)?;
        let Some(value) = value else {
            continue; // a container opened: its first member is next
        };
        match hand_up(text, value, i, open, finish_object)? {
            Handed::Done(v) => return Some(v),
            Handed::Next(next) => i = next,
        }
    }
}

/// The value that starts at `i` and the index after it; `None` in place of
/// the value when a non-empty container opens (pushed on `open`, its first
/// member starting at the index).
fn value_at(
    text: &str,
    mut i: usize,
    open: &mut Vec<Open>,
    finish_object: &mut dyn FnMut(Map<String, Value>) -> Map<String, Value>,
) -> Option<(Option<Value>, usize)> {
    let b = text.as_bytes();
    let value = match b.get(i) {
        Some(b'{') => {
            i = skip_ws(b, i + 1);
            if b.get(i) == Some(&b'}') {
                i += 1;
                Value::Object(finish_object(Map::new()))
            } else {
                let key;
                (key, i) = member_key(text, i)?;
                open.push(Open::Object(Map::new(), key));
                return Some((None, i));
            }
        }
        Some(b'[') => {
            i = skip_ws(b, i + 1);
            if b.get(i) == Some(&b']') {
                i += 1;
                Value::Array(Vec::new())
            } else {
                open.push(Open::Array(Vec::new()));
                return Some((None, i));
            }
        }
        Some(b'"') => {
            let s;
            (s, i) = string(text, i)?;
            Value::String(s)
        }
        Some(b't') if b[i..].starts_with(b"true") => {
            i += 4;
            Value::Bool(true)
        }
        Some(b'f') if b[i..].starts_with(b"false") => {
            i += 5;
            Value::Bool(false)
        }
        Some(b'n') if b[i..].starts_with(b"null") => {
            i += 4;
            Value::Null
        }
        Some(b'-' | b'0'..=b'9') => {
            let start = i;
            while matches!(
                b.get(i),
                Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            ) {
                i += 1;
            }
            Value::Number(serde_json::from_str::<Number>(&text[start..i]).ok()?)
        }
        _ => return None,
    };
    Some((Some(value), i))
}

/// Where parsing goes after a value.
enum Handed {
    /// The whole text was this value.
    Done(Value),
    /// The next value starts here.
    Next(usize),
}

/// Hand `value` (ending at `i`) to its container, closing the containers
/// that end here.
fn hand_up(
    text: &str,
    mut value: Value,
    mut i: usize,
    open: &mut Vec<Open>,
    finish_object: &mut dyn FnMut(Map<String, Value>) -> Map<String, Value>,
) -> Option<Handed> {
    let b = text.as_bytes();
    loop {
        i = skip_ws(b, i);
        match open.last_mut() {
            None => return (i == b.len()).then_some(Handed::Done(value)),
            Some(Open::Array(items)) => {
                items.push(value);
                match b.get(i) {
                    Some(b',') => {
                        return Some(Handed::Next(i + 1));
                    }
                    Some(b']') => {
                        i += 1;
                        let Some(Open::Array(items)) = open.pop() else {
                            return None;
                        };
                        value = Value::Array(items);
                    }
                    _ => return None,
                }
            }
            Some(Open::Object(map, key)) => {
                // A repeated key keeps its first place and takes the
                // last value, as in JSON.parse.
                if let Some(old) = map.insert(std::mem::take(key), value) {
                    drop_value(old);
                }
                match b.get(i) {
                    Some(b',') => {
                        (*key, i) = member_key(text, skip_ws(b, i + 1))?;
                        return Some(Handed::Next(i));
                    }
                    Some(b'}') => {
                        i += 1;
                        let Some(Open::Object(map, _)) = open.pop() else {
                            return None;
                        };
                        value = Value::Object(finish_object(map));
                    }
                    _ => return None,
                }
            }
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The string starting with the `"` at `i`, and the index after it.
fn string(text: &str, i: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match b.get(j) {
            Some(b'"') => break,
            Some(b'\\') => j += 2,
            Some(_) => j += 1,
            None => return None,
        }
    }
    // `j` is at an ASCII quote, so both ends are character boundaries.
    let s = serde_json::from_str::<String>(text.get(i..=j)?).ok()?;
    Some((s, j + 1))
}

/// A member's key and its `:`, starting at `i`; the index after the `:`.
fn member_key(text: &str, i: usize) -> Option<(String, usize)> {
    let (key, j) = string(text, i)?;
    let j = skip_ws(text.as_bytes(), j);
    if text.as_bytes().get(j) != Some(&b':') {
        return None;
    }
    Some((key, j + 1))
}

/// A value's JSON text (as `serde_json::to_string` writes it), at any depth.
pub fn to_string(v: &Value) -> String {
    enum Step<'a> {
        Items(std::slice::Iter<'a, Value>),
        Members(serde_json::map::Iter<'a>),
    }
    let mut out = Vec::new();
    let mut stack: Vec<(Step<'_>, bool)> = Vec::new();
    let mut next = Some(v);
    loop {
        if let Some(v) = next.take() {
            match v {
                Value::Array(items) => {
                    out.push(b'[');
                    stack.push((Step::Items(items.iter()), true));
                }
                Value::Object(map) => {
                    out.push(b'{');
                    stack.push((Step::Members(map.iter()), true));
                }
                // Scalars cannot fail to serialise.
                scalar => {
                    let _ = serde_json::to_writer(&mut out, scalar);
                }
            }
        }
        let Some((step, first)) = stack.last_mut() else {
            break;
        };
        let comma = !std::mem::replace(first, false);
        match step {
            Step::Items(items) => match items.next() {
                Some(item) => {
                    if comma {
                        out.push(b',');
                    }
                    next = Some(item);
                }
                None => {
                    out.push(b']');
                    stack.pop();
                }
            },
            Step::Members(members) => match members.next() {
                Some((k, item)) => {
                    if comma {
                        out.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut out, k);
                    out.push(b':');
                    next = Some(item);
                }
                None => {
                    out.push(b'}');
                    stack.pop();
                }
            },
        }
    }
    // Only valid UTF-8 was written.
    String::from_utf8(out).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Option<Value> {
        parse(text, &mut |m| m)
    }

    #[test]
    fn deep_values_round_trip_on_a_small_stack() {
        // A 64 KB thread stack: any recursion per level would overflow
        // after a few hundred levels.
        let depth = 200_000;
        let text = format!(
            "{}{{\"a\":[1]}}{}",
            "[{\"k\":".repeat(depth),
            "}]".repeat(depth)
        );
        let same = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let v = plain(&text).unwrap();
                let written = to_string(&v);
                drop_value(v);
                let unclosed = plain(&text[..text.len() - 1]);
                written == text && unclosed.is_none()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(same);
    }

    #[test]
    fn same_values_and_errors_as_serde_json() {
        let good = [
            r#"{"a":[1.50,-0,1e+21,12345678901234567890123,{"b":null}],"c":"\u00e9\n\"x\"","d":true,"e":false}"#,
            " [ 1 , [ ] , { } , \"\" ] ",
            r#"{"dup":1,"x":2,"dup":3}"#,
            "0",
            "\"\\ud83d\\ude00\"",
            "{\"\":{\"\":[]}}",
        ];
        for t in good {
            let ours = plain(t).unwrap();
            let theirs: Value = serde_json::from_str(t).unwrap();
            assert_eq!(ours, theirs, "{t}");
            assert_eq!(to_string(&ours), serde_json::to_string(&theirs).unwrap());
        }
        let bad = [
            "",
            " ",
            "[",
            "]",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[1 2]",
            "01",
            "1.",
            "-",
            "+1",
            ".5",
            "1e",
            "tru",
            "nul",
            "\"\\x\"",
            "\"a\u{1}\"",
            "\"open",
            "[1] x",
            "{} {}",
            "\"\\ud800\"",
            "NaN",
            "'a'",
        ];
        for t in bad {
            assert!(plain(t).is_none(), "{t:?} accepted");
            assert!(serde_json::from_str::<Value>(t).is_err(), "{t:?}");
        }
    }

    #[test]
    fn objects_are_finished_innermost_first() {
        let mut seen = Vec::new();
        let v = parse(r#"{"a":{"b":{}},"c":[{"d":1}]}"#, &mut |m| {
            seen.push(m.keys().cloned().collect::<Vec<_>>().join(","));
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.to_uppercase(), v);
            }
            out
        })
        .unwrap();
        assert_eq!(seen, ["", "b", "d", "a,c"]);
        assert_eq!(to_string(&v), r#"{"A":{"B":{}},"C":[{"D":1}]}"#);
    }
}
