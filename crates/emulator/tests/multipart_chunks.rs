//! The emulator's multipart parser (multer, vendored with its finders kept:
//! vendor/multer/PATCH.md) on bodies cut into pieces at every place: each
//! cut must give the same fields as the whole body, including where a
//! piece ends inside a delimiter or inside a value that looks like the
//! start of one, and a truncated body must fail however it is cut.

use bytes::Bytes;
use futures_util::stream;

const BOUNDARY: &str = "XyZ-boundary-0123456789";

/// Values that come close to the delimiter `\r\n--{BOUNDARY}` and to the end
/// of a part's headers, `\r\n\r\n`, without being either.
fn tricky_fields() -> Vec<(String, Vec<u8>)> {
    let near = |s: &str| s.as_bytes().to_vec();
    vec![
        ("action".into(), near("GetEnv")),
        ("empty".into(), Vec::new()),
        ("crlf2".into(), near("a\r\n\r\nb\r\n\r\n")),
        (
            "prefix".into(),
            format!("x\r\n--{}", &BOUNDARY[..10]).into_bytes(),
        ),
        (
            "almost".into(),
            format!("\r\n--{}", &BOUNDARY[..BOUNDARY.len() - 1]).into_bytes(),
        ),
        ("no-crlf".into(), format!("--{BOUNDARY}").into_bytes()),
        ("ends-cr".into(), near("value\r")),
        ("ends-crlf-dash".into(), near("value\r\n-")),
        ("binary".into(), (0u8..=255).collect()),
        ("last".into(), near("done")),
    ]
}

fn body_of(fields: &[(String, Vec<u8>)]) -> Vec<u8> {
    body_with(BOUNDARY, fields)
}

fn body_with(boundary: &str, fields: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// Parse `pieces` in order as one body: the fields, or the first error.
fn parse(pieces: Vec<Vec<u8>>) -> Result<Vec<(String, Vec<u8>)>, multer::Error> {
    parse_with(BOUNDARY, pieces)
}

fn parse_with(
    boundary: &str,
    pieces: Vec<Vec<u8>>,
) -> Result<Vec<(String, Vec<u8>)>, multer::Error> {
    let boundary = boundary.to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async move {
        let chunks = stream::iter(
            pieces
                .into_iter()
                .map(|p| Ok::<Bytes, std::io::Error>(Bytes::from(p))),
        );
        let mut mp = multer::Multipart::new(chunks, boundary);
        let mut fields = Vec::new();
        while let Some(field) = mp.next_field().await? {
            let name = field.name().unwrap_or("").to_string();
            fields.push((name, field.bytes().await?.to_vec()));
        }
        Ok(fields)
    })
}

/// `body` cut at `cuts` (ascending positions inside it).
fn cut(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut from = 0;
    for &at in cuts.iter().chain(std::iter::once(&body.len())) {
        pieces.push(body[from..at].to_vec());
        from = at;
    }
    pieces
}

#[test]
fn every_cut_in_two_gives_the_whole_bodys_fields() {
    let fields = tricky_fields();
    let body = body_of(&fields);
    assert_eq!(
        parse(vec![body.clone()]).expect("the whole body parses"),
        fields
    );
    for at in 1..body.len() {
        let parsed = parse(cut(&body, &[at])).unwrap_or_else(|e| panic!("cut at {at}: {e}"));
        assert_eq!(parsed, fields, "cut at {at}");
    }
}

#[test]
fn small_pieces_give_the_whole_bodys_fields() {
    let fields = tricky_fields();
    let body = body_of(&fields);
    for size in [1, 2, 3, 5, 7, 13, 31, 64] {
        let cuts: Vec<usize> = (size..body.len()).step_by(size).collect();
        let parsed = parse(cut(&body, &cuts)).unwrap_or_else(|e| panic!("pieces of {size}: {e}"));
        assert_eq!(parsed, fields, "pieces of {size}");
    }
}

#[test]
fn a_truncated_body_fails_however_it_is_cut() {
    let body = body_of(&tricky_fields());
    // Without the closing delimiter's last bytes, and without the last
    // part's delimiter: never a complete parse.
    for end in [
        body.len() - 4,
        body.len() - BOUNDARY.len() - 6,
        body.len() / 2,
    ] {
        let truncated = &body[..end];
        assert!(
            parse(vec![truncated.to_vec()]).is_err(),
            "whole, ending at {end}"
        );
        for at in (1..truncated.len()).step_by(17) {
            assert!(
                parse(cut(truncated, &[at])).is_err(),
                "ending at {end}, cut at {at}"
            );
        }
    }
}

#[test]
fn each_body_is_parsed_with_its_own_boundary() {
    // The delimiter's finder belongs to each body's parser, not to the
    // process: a second boundary after the first still parses.
    let fields = tricky_fields();
    assert_eq!(
        parse_with(BOUNDARY, vec![body_with(BOUNDARY, &fields)]).expect("parses"),
        fields
    );
    let other = "other-7";
    assert_eq!(
        parse_with(other, vec![body_with(other, &fields)]).expect("parses"),
        fields
    );
    // Each boundary's body is malformed for the other's parser.
    assert!(parse_with(other, vec![body_with(BOUNDARY, &fields)]).is_err());
}

#[test]
fn a_preamble_before_the_first_boundary_is_skipped_however_it_is_cut() {
    // Most bodies start with their first boundary (found without a search);
    // text before it (RFC 2046's preamble) is searched past.
    let fields = tricky_fields();
    let mut body = format!("preamble --{} \r\n", &BOUNDARY[..5]).into_bytes();
    body.extend_from_slice(&body_of(&fields));
    assert_eq!(parse(vec![body.clone()]).expect("parses"), fields);
    for at in 1..body.len() {
        let parsed = parse(cut(&body, &[at])).unwrap_or_else(|e| panic!("cut at {at}: {e}"));
        assert_eq!(parsed, fields, "cut at {at}");
    }
}
