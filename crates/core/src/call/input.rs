//! What the caller asked for ([`CallInput`], [`Media`]) and its params as
//! they go over the wire in every mode ([`converted_params`]): the
//! out-of-band markers of the JavaScript layer, BigInts, lone surrogates,
//! case conversion, and the file extension of a media upload.

use serde_json::{Map, Value};

use crate::case;
use crate::error::ApiError;

/// The markers the JavaScript layer puts in place of values JSON cannot
/// carry, out of band: each call's params come with a `marker` (a NUL and
/// random hex digits) that occurs nowhere in the user's strings or keys
/// (the JavaScript layer checks that, and picks another marker otherwise),
/// so no user string is ever reinterpreted. With `marker` = M:
/// - `M` + `u`: `undefined`, a function or a symbol, kept so that such a value
///   still takes part in case conversion (where it can overwrite a
///   colliding key) before it is dropped, as in the reference;
/// - `M` + `n` + digits: a BigInt, written as a number;
/// - `M` + `m` + index: the media value `media[index]` (top level only).
struct Markers {
    undefined: String,
    bigint: String,
    media: String,
    /// `M` as it appears inside JSON text (the NUL escaped).
    escaped: String,
}

impl Markers {
    fn new(marker: &str) -> Option<Markers> {
        if marker.is_empty() {
            return None;
        }
        let quoted = serde_json::to_string(marker).ok()?;
        Some(Markers {
            undefined: format!("{marker}u"),
            bigint: format!("{marker}n"),
            media: format!("{marker}m"),
            escaped: quoted[1..quoted.len() - 1].to_string(),
        })
    }
}

/// A media upload parameter (`{ contentType, value: Buffer, fileName? }`).
#[derive(Clone, PartialEq, Eq)]
pub struct Media {
    /// Its content type, e.g. `image/png`.
    pub content_type: String,
    /// Its file name, when the caller gave one.
    pub file_name: Option<String>,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// What the caller asked for.
#[derive(Clone, Default)]
pub struct CallInput {
    /// Dotted API name without the `openapi.` prefix, e.g. `tcb.createenvandresource`.
    pub api: String,
    /// JSON text of the params object (`None` when the caller passed nothing).
    pub params_json: Option<String>,
    /// Media values referenced from `params_json` by index.
    pub media: Vec<Media>,
    /// `openapi({ appid })`.
    pub appid: Option<String>,
    /// `openapi({ convertCase })`, default true.
    pub convert_case: bool,
    /// The prefix of this call's out-of-band markers (see `Markers`);
    /// `None`: the params hold no markers.
    pub marker: Option<String>,
}

impl CallInput {
    /// The name shown in messages: `openapi.{api}`.
    pub fn display_api(&self) -> String {
        // Without core::fmt: every call names itself (~600 instructions saved).
        ["openapi.", self.api.as_str()].concat()
    }
}

/// Converted params, and the stand-in character of their lone surrogates.
pub struct ConvertedParams {
    pub map: Map<String, Value>,
    pub(crate) stand_in: Option<char>,
    /// The prefix of a media reference, when the params have markers.
    pub(crate) media: Option<String>,
}

impl ConvertedParams {
    /// JSON text written from these params, with lone surrogates restored
    /// as U+FFFD (see [`replace_lone_surrogates`]).
    pub fn restore(&self, text: String) -> String {
        restore_lone(text, self.stand_in)
    }

    /// The index of the media file `v` stands for, when it is this call's
    /// media reference (see [`Markers`]).
    pub fn media_index(&self, v: &Value) -> Option<usize> {
        media_ref(v, self.media.as_deref()?)
    }
}

/// The params object as it goes over the wire: parsed from the JSON text,
/// BigInts restored, keys converted to snake_case unless `convertCase` is
/// off. `None` when the caller passed no params (or `null`). Shared with the
/// HTTPS calling mode, whose JSON body is this object.
pub fn converted_params(input: &CallInput) -> Result<Option<ConvertedParams>, ApiError> {
    let Some(text) = input.params_json.as_deref() else {
        return Ok(None);
    };
    let (text, stand_in) = replace_lone_surrogates(text);
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        let why = if e.to_string().contains("recursion limit") {
            "params are nested deeper than 128 levels".to_string()
        } else {
            format!("params could not be serialised ({e})")
        };
        ApiError::invalid_param(why)
    })?;
    let markers = input.marker.as_deref().and_then(Markers::new);
    let markers = markers.as_ref().filter(|m| text.contains(&m.escaped));
    let value = match markers {
        Some(m) => restore_bigints(value, m),
        None => value,
    };
    let value = match value {
        Value::Null => return Ok(None),
        v @ Value::Object(_) => v,
        _ => return Err(ApiError::invalid_param("params must be an object")),
    };
    let value = if input.convert_case {
        case::to_snake(value)
    } else {
        value
    };
    let value = match markers {
        Some(m) => drop_undefined(value, m),
        None => value,
    };
    let media = markers.map(|m| m.media.clone());
    match value {
        Value::Object(map) => Ok(Some(ConvertedParams {
            map,
            stand_in,
            media,
        })),
        _ => Ok(None),
    }
}

/// `JSON.stringify` escapes a lone surrogate as `\udXXX`, which no Rust
/// string can hold. The reference writes the string raw, and UTF-8 encoding
/// turns the lone surrogate into U+FFFD (`EF BF BD`), while a real U+FFFD
/// would be escaped as `\ufffd`. So each lone surrogate becomes a stand-in
/// character that does not occur in the text (a noncharacter, written raw),
/// swapped for U+FFFD once the JSON text is written.
fn replace_lone_surrogates(text: &str) -> (std::borrow::Cow<'_, str>, Option<char>) {
    if !text.contains("\\ud") {
        return (std::borrow::Cow::Borrowed(text), None);
    }
    let Some(stand_in) = ('\u{fdd0}'..='\u{fdef}').find(|c| !text.contains(*c)) else {
        return (std::borrow::Cow::Borrowed(text), None);
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    let mut replaced = false;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\uXXXX` or `\c`.
        let is_surrogate = bytes.get(i + 1) == Some(&b'u')
            && text
                .get(i + 2..i + 6)
                .and_then(|h| u16::from_str_radix(h, 16).ok())
                .is_some_and(|u| (0xd800..=0xdfff).contains(&u));
        if is_surrogate {
            out.push_str(&text[last..i]);
            out.push(stand_in);
            i += 6;
            last = i;
            replaced = true;
        } else {
            i += 2;
        }
    }
    out.push_str(&text[last.min(text.len())..]);
    (std::borrow::Cow::Owned(out), replaced.then_some(stand_in))
}

/// Undo the stand-in of [`replace_lone_surrogates`] in written text.
pub(crate) fn restore_lone(text: String, stand_in: Option<char>) -> String {
    match stand_in {
        Some(c) if text.contains(c) => text.replace(c, "\u{fffd}"),
        _ => text,
    }
}

/// Drop `undefined` after case conversion: object members go, array
/// elements become `null` (as JSON serialisation does).
fn drop_undefined(v: Value, m: &Markers) -> Value {
    let is_undefined = |v: &Value| v.as_str() == Some(m.undefined.as_str());
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !is_undefined(v))
                .map(|(k, v)| (k, drop_undefined(v, m)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|v| {
                    if is_undefined(&v) {
                        Value::Null
                    } else {
                        drop_undefined(v, m)
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

fn restore_bigints(v: Value, m: &Markers) -> Value {
    match v {
        Value::String(s) => match s.strip_prefix(m.bigint.as_str()) {
            Some(digits) => serde_json::from_str::<serde_json::Number>(digits)
                .map(Value::Number)
                .unwrap_or(Value::String(s)),
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(|v| restore_bigints(v, m)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, restore_bigints(v, m)))
                .collect(),
        ),
        other => other,
    }
}

/// The index of a media reference (`M` + `m` + index).
pub(crate) fn media_ref(v: &Value, prefix: &str) -> Option<usize> {
    v.as_str()?.strip_prefix(prefix)?.parse().ok()
}

/// Every mime type mime-db 1.52.0 (the reference's) lists with extensions,
/// and its first extension: one `type extension` per line.
const MIME_EXTENSIONS: &str = include_str!("mime_extensions.txt");

/// The file extension the reference gives a media upload: mime-db's first
/// extension for exactly this content type (no case folding, no stripping
/// of parameters: `image/jpeg; charset=binary` is unknown), `png` when
/// unknown.
pub fn extension_for(content_type: &str) -> &'static str {
    MIME_EXTENSIONS
        .lines()
        .find_map(|line| {
            let (mime, ext) = line.split_once(' ')?;
            (mime == content_type).then_some(ext)
        })
        .unwrap_or("png")
}
