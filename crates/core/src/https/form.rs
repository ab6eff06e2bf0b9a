//! The `multipart/form-data` body of an HTTPS upload (`security.imgSecCheck`,
//! `customerServiceMessage.uploadTempMedia`, ...): a media param becomes a
//! file part (`name`, `filename`, `Content-Type`), any other param a text
//! part, as `curl -F media=@photo.png` sends them.

use bytes::Bytes;

/// One part of the form.
pub enum Part<'a> {
    /// A file: the param's name, the file name, its content type, the bytes.
    File {
        name: &'a str,
        file_name: &'a str,
        content_type: &'a str,
        data: &'a [u8],
    },
    /// A text field.
    Text { name: &'a str, value: &'a str },
}

/// A header parameter value in quotes: `"` and line breaks, which would end
/// the parameter or the header, are percent-encoded (as browsers do).
fn quoted(out: &mut Vec<u8>, v: &str) {
    out.push(b'"');
    for b in v.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"%22"),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// A content type fit for a part header (no line break, printable ASCII),
/// else `application/octet-stream`.
fn safe_content_type(ct: &str) -> &str {
    let ct = ct.trim();
    if !ct.is_empty() && ct.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        ct
    } else {
        "application/octet-stream"
    }
}

/// `(content type with the boundary, body)`.
pub fn encode(parts: &[Part<'_>]) -> (String, Bytes) {
    // 128 random bits: no uploaded file can be expected to contain it.
    let boundary = format!(
        "wxcloudopenapi{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    );
    let len: usize = parts
        .iter()
        .map(|p| match p {
            Part::File { data, .. } => data.len() + 256,
            Part::Text { value, .. } => value.len() + 128,
        })
        .sum();
    let mut body = Vec::with_capacity(len + boundary.len() * (parts.len() + 1));
    for part in parts {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=");
        match part {
            Part::File {
                name,
                file_name,
                content_type,
                data,
            } => {
                quoted(&mut body, name);
                body.extend_from_slice(b"; filename=");
                quoted(&mut body, file_name);
                body.extend_from_slice(b"\r\nContent-Type: ");
                body.extend_from_slice(safe_content_type(content_type).as_bytes());
                body.extend_from_slice(b"\r\n\r\n");
                body.extend_from_slice(data);
            }
            Part::Text { name, value } => {
                quoted(&mut body, name);
                body.extend_from_slice(b"\r\n\r\n");
                body.extend_from_slice(value.as_bytes());
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    (
        format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// multer (the parser the emulator uses) reads back what was written.
    #[tokio::test]
    async fn a_parser_reads_the_parts_back() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let (ct, body) = encode(&[
            Part::Text {
                name: "type",
                value: "image",
            },
            Part::File {
                name: "media",
                file_name: "a\"b\r\n.png",
                content_type: "image/png\r\nX-Evil: 1",
                data: &data,
            },
        ]);
        let boundary = multer::parse_boundary(&ct).unwrap();
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut form = multer::Multipart::new(stream, boundary);
        let f = form.next_field().await.unwrap().unwrap();
        assert_eq!(f.name(), Some("type"));
        assert_eq!(f.file_name(), None);
        assert_eq!(f.text().await.unwrap(), "image");
        let f = form.next_field().await.unwrap().unwrap();
        assert_eq!(f.name(), Some("media"));
        assert_eq!(f.file_name(), Some("a%22b%0D%0A.png"));
        assert_eq!(
            f.content_type().map(|m| m.to_string()).as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(f.bytes().await.unwrap().as_ref(), &data[..]);
        assert!(form.next_field().await.unwrap().is_none());
    }
}
