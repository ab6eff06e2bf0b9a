//! Escaped lone surrogates in JSON text (`"\ud83d"`, half an emoji):
//! `JSON.parse` accepts them, serde_json does not. They are masked before
//! serde_json reads the text (WeChat's answers, `init()` options) and put
//! back after, so JavaScript gets the string `JSON.parse` would give.

/// Each escaped lone surrogate (`\udXXX` not part of an escaped pair)
/// becomes a stand-in character absent from the text (a noncharacter)
/// followed by its four hex digits, which any Rust string can hold; `None`
/// when there is none (or no stand-in is free).
pub(crate) fn mask_lone_surrogates(text: &str) -> (std::borrow::Cow<'_, str>, Option<char>) {
    if !text.contains("\\ud") && !text.contains("\\uD") {
        return (std::borrow::Cow::Borrowed(text), None);
    }
    let Some(stand_in) = free_stand_in(text) else {
        return (std::borrow::Cow::Borrowed(text), None);
    };
    let unit = |i: usize| -> Option<u16> {
        if text.as_bytes().get(i) != Some(&b'\\') || text.as_bytes().get(i + 1) != Some(&b'u') {
            return None;
        }
        text.get(i + 2..i + 6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u16::from_str_radix(h, 16).ok())
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut last, mut i, mut masked) = (0, 0, false);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match unit(i) {
            Some(0xd800..=0xdbff)
                if unit(i + 6).is_some_and(|low| (0xdc00..=0xdfff).contains(&low)) =>
            {
                i += 12; // a proper pair: serde_json reads it
            }
            Some(u @ 0xd800..=0xdfff) => {
                out.push_str(&text[last..i]);
                out.push(stand_in);
                out.push_str(&format!("{u:04x}"));
                i += 6;
                last = i;
                masked = true;
            }
            Some(_) => i += 6,
            None => i += 2,
        }
    }
    if !masked {
        return (std::borrow::Cow::Borrowed(text), None);
    }
    out.push_str(&text[last.min(text.len())..]);
    (std::borrow::Cow::Owned(out), Some(stand_in))
}

/// A character that occurs in none of the strings `text` decodes to, raw or
/// escaped (`\ufdd0`, `\uFDD0`, or a pair for a supplementary character):
/// a noncharacter U+FDD0..U+FDEF, else one of the 65 534 characters of the
/// supplementary private use area A. One pass over the text.
fn free_stand_in(text: &str) -> Option<char> {
    let candidate = |c: u32| (0xfdd0..=0xfdef).contains(&c) || (0xf0000..=0xffffd).contains(&c);
    let mut used = std::collections::HashSet::new();
    for c in text.chars() {
        if candidate(u32::from(c)) {
            used.insert(u32::from(c));
        }
    }
    let bytes = text.as_bytes();
    let unit = |i: usize| -> Option<u32> {
        if bytes.get(i) != Some(&b'\\') || bytes.get(i + 1) != Some(&b'u') {
            return None;
        }
        text.get(i + 2..i + 6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    for i in backslashes(bytes) {
        match unit(i) {
            Some(hi @ 0xd800..=0xdbff) => {
                if let Some(lo @ 0xdc00..=0xdfff) = unit(i + 6) {
                    let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                    if candidate(c) {
                        used.insert(c);
                    }
                }
            }
            Some(u) if candidate(u) => {
                used.insert(u);
            }
            _ => {}
        }
    }
    (0xfdd0..=0xfdef)
        .chain(0xf0000..=0xffffd)
        .find(|c| !used.contains(c))
        .and_then(char::from_u32)
}

/// Positions of the backslashes in `bytes`.
fn backslashes(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\\')
        .map(|(i, _)| i)
}

/// Undo [`mask_lone_surrogates`]: in JSON text, back to the `\udXXX`
/// escape (JavaScript gets the same string as from JSON.parse); in a
/// message, U+FFFD.
pub(crate) fn unmask(text: &str, stand_in: char, as_json: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(stand_in) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + stand_in.len_utf8()..];
        match after
            .get(..4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(hex) if as_json => {
                out.push_str("\\u");
                out.push_str(hex);
                rest = &after[4..];
            }
            Some(_) => {
                out.push('\u{fffd}');
                rest = &after[4..];
            }
            None => {
                out.push('\u{fffd}');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
