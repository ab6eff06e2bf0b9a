//! The JSON text the reference sends for a parameter value.
//!
//! The reference serialises each parameter with json-bigint 1.0.0's
//! `stringify` (Douglas Crockford's json2): no white space, object keys in
//! order, and a string escaping rule that differs from `JSON.stringify`:
//! besides `"` `\` and the C0 controls it escapes `\x7f-\x9f`, `\u00ad`,
//! `\u0600-\u0604`, `\u070f`, `\u17b4`, `\u17b5`, `\u200c-\u200f`,
//! `\u2028-\u202f`, `\u2060-\u206f`, `\ufeff` and `\ufff0-\uffff`.
//! `\b \t \n \f \r " \\` use their short escapes, everything else in the set
//! becomes `\u` + four lower-case hex digits. All other characters (including
//! those beyond the BMP) are written as raw UTF-8.
#![warn(missing_docs)]

use serde_json::Value;

/// Serialise `v` exactly as the reference's `JSONBigInt.stringify` does.
///
/// Numbers are written verbatim from their text (serde_json keeps it with
/// `arbitrary_precision`); the input is expected to come from JavaScript's
/// `JSON.stringify`, so that text is already JavaScript's.
pub fn write(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

/// JavaScript's `String.prototype.trim`: strips white space and line
/// terminators from both ends: Rust's `char::is_whitespace` set without
/// U+0085, plus U+FEFF (checked against Node 20 over the whole BMP).
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Whether json2's `escapable` regex matches this character.
fn escapable(c: char) -> bool {
    matches!(
        c,
        '\\' | '"'
            | '\u{00}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{ad}'
            | '\u{600}'..='\u{604}'
            | '\u{70f}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{200c}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff0}'..='\u{ffff}'
    )
}

fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !escapable(c) {
            out.push(c);
            continue;
        }
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // Every other escapable character is in the BMP: one UTF-16 unit.
            other => out.push_str(&format!("\\u{:04x}", u32::from(other))),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    /// The (key, value JSON text) pairs of a recorded requestData.
    fn recorded_pairs(name: &str) -> Vec<(String, String)> {
        use prost::Message;
        let case = crate::test_support::request_case(name);
        let bytes = hex::decode(case["requestData_hex"].as_str().unwrap()).unwrap();
        let data = crate::cloud::proto::CommApiData::decode(bytes.as_slice()).unwrap();
        data.openapi_data
            .unwrap()
            .pairs
            .into_iter()
            .map(|p| (p.key, String::from_utf8(p.value).unwrap()))
            .collect()
    }

    /// The recorded input, converted and serialised like the reference.
    fn our_pairs(name: &str) -> Vec<(String, String)> {
        let case = crate::test_support::request_case(name);
        let input = crate::case::to_snake(case["input"].clone());
        input
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), write(v)))
            .collect()
    }

    #[test]
    fn recorded_values() {
        for name in ["types-mix", "unicode-alias", "nested-reorder", "basic"] {
            assert_eq!(our_pairs(name), recorded_pairs(name), "{name}");
        }
    }

    #[test]
    fn trim_like_javascript() {
        assert_eq!(
            js_trim(" \t\n\r\u{b}\u{c}\u{a0}\u{feff}\u{2028}\u{3000}x y\u{2029} "),
            "x y"
        );
        assert_eq!(js_trim("\u{85}x\u{85}"), "\u{85}x\u{85}");
        assert_eq!(js_trim("\u{200b}x\u{180e}"), "\u{200b}x\u{180e}");
        assert_eq!(js_trim(""), "");
    }

    #[test]
    fn short_escapes() {
        assert_eq!(
            write(&Value::String("\u{8}\t\n\u{c}\r\"\\/".into())),
            r#""\b\t\n\f\r\"\\/""#
        );
    }

    #[test]
    fn escape_ranges() {
        let cases = [
            ('\u{0}', "\\u0000"),
            ('\u{1}', "\\u0001"),
            ('\u{b}', "\\u000b"),
            ('\u{1f}', "\\u001f"),
            ('\u{7f}', "\\u007f"),
            ('\u{85}', "\\u0085"),
            ('\u{9f}', "\\u009f"),
            ('\u{ad}', "\\u00ad"),
            ('\u{600}', "\\u0600"),
            ('\u{604}', "\\u0604"),
            ('\u{70f}', "\\u070f"),
            ('\u{17b4}', "\\u17b4"),
            ('\u{17b5}', "\\u17b5"),
            ('\u{200c}', "\\u200c"),
            ('\u{200f}', "\\u200f"),
            ('\u{2028}', "\\u2028"),
            ('\u{202f}', "\\u202f"),
            ('\u{2060}', "\\u2060"),
            ('\u{206f}', "\\u206f"),
            ('\u{feff}', "\\ufeff"),
            ('\u{fff0}', "\\ufff0"),
            ('\u{fffd}', "\\ufffd"),
            ('\u{ffff}', "\\uffff"),
        ];
        for (c, esc) in cases {
            assert_eq!(write(&Value::String(c.to_string())), format!("\"{esc}\""));
        }
        // Neighbours of the ranges, and characters outside the BMP, stay raw.
        for c in [
            ' ',
            '~',
            '\u{a0}',
            '\u{ac}',
            '\u{ae}',
            '\u{5ff}',
            '\u{605}',
            '\u{70e}',
            '\u{710}',
            '\u{17b3}',
            '\u{17b6}',
            '\u{200b}',
            '\u{2010}',
            '\u{2027}',
            '\u{2030}',
            '\u{205f}',
            '\u{2070}',
            '\u{fefe}',
            '\u{ff00}',
            '\u{ffef}',
            '测',
            '\u{1f680}',
            '\u{10000}',
        ] {
            assert_eq!(write(&Value::String(c.to_string())), format!("\"{c}\""));
        }
        // Keys are escaped the same way.
        assert_eq!(
            write(&parse(r#"{"a\u2028":"\u00ad"}"#)),
            r#"{"a\u2028":"\u00ad"}"#
        );
    }

    #[test]
    fn numbers_verbatim_and_layout() {
        assert_eq!(
            write(&parse(
                r#"{ "a" : [ 1.5 , -0 , 1e+21, 9007199254740993, 12345678901234567890123 ], "b": {} , "c": [] }"#
            )),
            r#"{"a":[1.5,-0,1e+21,9007199254740993,12345678901234567890123],"b":{},"c":[]}"#
        );
    }
}
