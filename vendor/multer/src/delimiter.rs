//! The delimiter of a body's parts, `\r\n--{boundary}`, and how it is found
//! (PATCH.md).

use std::cell::OnceCell;

use memchr::memmem::Finder;

use crate::constants;

/// Up to this many bytes, a search checks each `\r` in turn instead of
/// using a substring finder: building the finder of a 70-byte needle cost
/// more than searching a small body this way. Each `\r` costs at most one
/// comparison with the needle, so such a search is bounded on any input;
/// longer haystacks use the finder (linear), built on the first of them.
const SCAN_LIMIT: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct Delimiter {
    needle: Vec<u8>,
    finder: OnceCell<Finder<'static>>,
}

impl Delimiter {
    pub(crate) fn new(boundary: &str) -> Delimiter {
        let needle = [constants::CRLF, constants::BOUNDARY_EXT, boundary].concat().into_bytes();
        Delimiter {
            needle,
            finder: OnceCell::new(),
        }
    }

    /// `\r\n--{boundary}`.
    pub(crate) fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// `--{boundary}`: the needle without its CRLF, the line that opens
    /// the body and each part.
    pub(crate) fn boundary_line(&self) -> &[u8] {
        &self.needle[constants::CRLF.len()..]
    }

    /// Where the delimiter first occurs in `haystack`.
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        if haystack.len() <= SCAN_LIMIT {
            return memchr::memchr_iter(b'\r', haystack).find(|&i| haystack[i..].starts_with(&self.needle));
        }
        self.finder
            .get_or_init(|| Finder::new(&self.needle).into_owned())
            .find(haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of searching (a scan of each `\r`, the finder) agree with
    /// a plain search, on haystacks below and above the scan limit.
    #[test]
    fn both_searches_find_the_first_delimiter() {
        let d = Delimiter::new("b0undary");
        let naive = |h: &[u8]| h.windows(d.needle().len()).position(|w| w == d.needle());
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\r\n--b0undary".to_vec(),
            b"x\r\r\n--b0undar\r\n--b0undary--".to_vec(),
            b"\r\n--b0undar".to_vec(),
            b"abc\r\n-- b0undary\r\n".to_vec(),
        ];
        for len in [SCAN_LIMIT - 20, SCAN_LIMIT + 20, 3 * SCAN_LIMIT] {
            let mut h = b"\r\n--b0undar\r".repeat(len / 12);
            h.truncate(len - 12);
            cases.push(h.clone());
            h.extend_from_slice(b"\r\n--b0undary");
            cases.push(h);
        }
        for h in &cases {
            assert_eq!(d.find(h), naive(h), "haystack of {} bytes", h.len());
        }
    }
}
