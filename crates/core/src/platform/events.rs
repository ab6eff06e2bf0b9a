//! Third-party platform events: the encrypted XML WeChat posts to the
//! platform's event URL (the verify ticket every 10 minutes, and
//! `authorized` / `updateauthorized` / `unauthorized` at once).
//!
//! [`open`] checks `msg_signature`, the outer `AppId`, decrypts
//! ([`MsgCrypt`]) and reads the message into its fields; [`seal`] makes such
//! a request (the emulator's push). Acting on the event (storing the ticket,
//! exchanging the authorization code) is the caller's.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::msg_crypt::{CryptError, MsgCrypt};

/// The largest body opened: WeChat's events are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Fields whose value is a number (Unix seconds).
const NUMERIC_FIELDS: &[&str] = &["CreateTime", "AuthorizationCodeExpiredTime"];

/// The query parameters of an event request.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// `timestamp`, signed with the message.
    pub timestamp: String,
    /// `nonce`, signed with the message.
    pub nonce: String,
    /// `msg_signature`: SHA-1 over the token, timestamp, nonce and ciphertext.
    pub msg_signature: String,
}

/// An element's content: text (text and CDATA joined), or child elements
/// (WeChat nests some events' fields: `notify_third_fasteregister` has
/// `<info>…</info>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlNode {
    /// Text (text and CDATA joined).
    Text(String),
    /// Child elements, in document order.
    Elements(Vec<(String, XmlNode)>),
}

/// An element's children, in order.
type Children = Vec<(String, XmlNode)>;

/// How deep elements may nest below the root (WeChat's go one level down).
const MAX_DEPTH: usize = 8;

/// The children of the root element, in order. Entities are the XML ones
/// only; a DOCTYPE (and so any defined entity) is refused.
pub fn xml_tree(xml: &[u8]) -> Result<Children, CryptError> {
    let bad = |why: String| CryptError::Xml(why);
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut seen_root = false;
    let mut done = false;
    // The open elements below the root: name, text so far, children so far.
    let mut stack: Vec<(String, String, Children)> = Vec::new();
    let mut root: Children = Vec::new();
    let mut in_root = false;
    let close = |name: String,
                 text: String,
                 children: Vec<(String, XmlNode)>|
     -> Result<(String, XmlNode), CryptError> {
        if children.is_empty() {
            Ok((name, XmlNode::Text(text)))
        } else if text.trim().is_empty() {
            Ok((name, XmlNode::Elements(children)))
        } else {
            Err(CryptError::Xml(format!(
                "element {name} mixes text and elements"
            )))
        }
    };
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| bad(format!("at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            // The root element, opened (Start) or empty (Empty): only one.
            Event::Start(_) | Event::Empty(_) if !in_root => {
                if seen_root {
                    return Err(bad("more than one root element".into()));
                }
                seen_root = true;
                in_root = matches!(ev, Event::Start(_));
                done = !in_root;
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if stack.len() >= MAX_DEPTH {
                    return Err(bad(format!("elements nested more than {MAX_DEPTH} deep")));
                }
                stack.push((name, String::new(), Vec::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let node = (name, XmlNode::Text(String::new()));
                match stack.last_mut() {
                    Some((_, _, children)) => children.push(node),
                    None => root.push(node),
                }
            }
            Event::End(_) => match stack.pop() {
                Some((name, text, children)) => {
                    let node = close(name, text, children)?;
                    match stack.last_mut() {
                        Some((_, _, siblings)) => siblings.push(node),
                        None => root.push(node),
                    }
                }
                None => {
                    in_root = false;
                    done = true;
                }
            },
            Event::Text(t) => {
                if let Some((_, v, _)) = stack.last_mut() {
                    let text = t
                        .xml10_content()
                        .map_err(|e| bad(format!("bad text: {e}")))?;
                    v.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, v, _)) = stack.last_mut() {
                    v.push(entity(&r)?);
                }
            }
            Event::CData(t) => {
                if let Some((_, v, _)) = stack.last_mut() {
                    v.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(bad("a DOCTYPE is not allowed".into())),
            _ => {}
        }
        buf.clear();
    }
    if !done || in_root || !stack.is_empty() {
        return Err(bad("no complete root element".into()));
    }
    Ok(root)
}

/// The root's children that hold text, as (name, text) pairs in order
/// (the outer envelope, and the flat fields of a message).
pub fn xml_fields(xml: &[u8]) -> Result<Vec<(String, String)>, CryptError> {
    Ok(xml_tree(xml)?
        .into_iter()
        .filter_map(|(k, v)| match v {
            XmlNode::Text(t) => Some((k, t)),
            XmlNode::Elements(_) => None,
        })
        .collect())
}

/// The character an entity reference (`&amp;`, `&#20013;`, …) stands for.
fn entity(r: &BytesRef<'_>) -> Result<char, CryptError> {
    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
    Ok(match name.as_str() {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => match r.resolve_char_ref() {
            Ok(Some(c)) => c,
            _ => return Err(CryptError::Xml(format!("unknown entity &{name};"))),
        },
    })
}

/// A nested element as a JSON object (its text fields as strings).
fn node_value(node: XmlNode) -> Value {
    match node {
        XmlNode::Text(t) => Value::String(t),
        XmlNode::Elements(children) => Value::Object(
            children
                .into_iter()
                .map(|(k, v)| (k, node_value(v)))
                .collect(),
        ),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Open an event request: the signature over `Encrypt`, the outer `AppId`
/// (when present), the decryption, the message's own `AppId`. Returns the
/// message's fields (`CreateTime` and `AuthorizationCodeExpiredTime` as
/// numbers, the rest as strings).
pub fn open(
    crypt: &MsgCrypt,
    query: &EventQuery,
    body: &[u8],
) -> Result<Map<String, Value>, CryptError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(CryptError::Xml(format!(
            "the body is {} bytes, more than the {MAX_BODY_BYTES} an event can be",
            body.len()
        )));
    }
    let outer = xml_fields(body)?;
    let encrypt = field(&outer, "Encrypt")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| CryptError::Xml("the body has no Encrypt element".into()))?;
    crypt.verify(
        &query.msg_signature,
        &query.timestamp,
        &query.nonce,
        encrypt,
    )?;
    if let Some(appid) = field(&outer, "AppId").or_else(|| field(&outer, "ToUserName")) {
        if appid != crypt.appid() {
            return Err(CryptError::Appid);
        }
    }
    let message = crypt.decrypt(encrypt)?;
    let inner = xml_tree(message.as_bytes())?;
    let appid = inner.iter().find_map(|(k, v)| match v {
        XmlNode::Text(t) if k == "AppId" => Some(t.as_str()),
        _ => None,
    });
    if appid.is_some_and(|a| a != crypt.appid()) {
        return Err(CryptError::Appid);
    }
    let mut out = Map::new();
    for (k, v) in inner {
        let value = match v {
            XmlNode::Text(t) => match t.parse::<i64>() {
                Ok(n) if NUMERIC_FIELDS.contains(&k.as_str()) => Value::from(n),
                _ => Value::String(t),
            },
            nested => node_value(nested),
        };
        out.insert(k, value);
    }
    Ok(out)
}

/// A flat message: `<xml><Name><![CDATA[value]]></Name>…</xml>` (values that
/// are numbers go without CDATA, as WeChat writes `CreateTime`).
pub fn message_xml(fields: &[(&str, String)]) -> String {
    let mut s = String::from("<xml>");
    for (k, v) in fields {
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            s.push_str(&format!("<{k}>{v}</{k}>"));
        } else {
            s.push_str(&format!(
                "<{k}><![CDATA[{}]]></{k}>",
                v.replace("]]>", "]]]]><![CDATA[>")
            ));
        }
    }
    s.push_str("</xml>");
    s
}

/// An event request as WeChat sends it: the body and its query.
pub fn seal(
    crypt: &MsgCrypt,
    message: &str,
    timestamp: &str,
    nonce: &str,
    random: [u8; 16],
) -> (String, EventQuery) {
    let encrypt = crypt.encrypt(message, random);
    let msg_signature = crypt.signature(timestamp, nonce, &encrypt);
    let body = message_xml(&[("AppId", crypt.appid().to_string()), ("Encrypt", encrypt)]);
    (
        body,
        EventQuery {
            timestamp: timestamp.to_string(),
            nonce: nonce.to_string(),
            msg_signature,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

    fn crypt() -> MsgCrypt {
        MsgCrypt::new("platform-token", KEY, "wxcomponent000001").unwrap()
    }

    fn ticket_message() -> String {
        message_xml(&[
            ("AppId", "wxcomponent000001".into()),
            ("CreateTime", "1413192605".into()),
            ("InfoType", "component_verify_ticket".into()),
            ("ComponentVerifyTicket", "ticket@@@abc&<>".into()),
        ])
    }

    #[test]
    fn opens_a_sealed_ticket() {
        let c = crypt();
        let (body, q) = seal(&c, &ticket_message(), "1413192605", "n0nce", [7; 16]);
        let ev = open(&c, &q, body.as_bytes()).unwrap();
        assert_eq!(ev["InfoType"], "component_verify_ticket");
        assert_eq!(ev["ComponentVerifyTicket"], "ticket@@@abc&<>");
        assert_eq!(ev["CreateTime"], 1413192605);
    }

    // The decrypted message of wechatpy's `test_decrypt_message` (see
    // msg_crypt.rs), read by our XML reader: an independent message shape.
    #[test]
    fn reads_wechatpy_message() {
        let c = MsgCrypt::new("123456", KEY, "wx49f0ab532d5d035a").unwrap();
        let body = "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>";
        let q = EventQuery {
            timestamp: "1411525903".into(),
            nonce: "461056294".into(),
            msg_signature: "74d92dfeb87ba7c714f89d98870ae5eb62dff26d".into(),
        };
        let ev = open(&c, &q, body.as_bytes()).unwrap();
        assert_eq!(ev["Content"], "test");
        assert_eq!(ev["FromUserName"], "messense");
        assert_eq!(ev["MsgType"], "text");
    }

    #[test]
    fn refuses_bad_signature_appid_and_xml() {
        let c = crypt();
        let (body, q) = seal(&c, &ticket_message(), "1", "n", [1; 16]);
        let bad_sig = EventQuery {
            nonce: "other".into(),
            ..q.clone()
        };
        assert_eq!(
            open(&c, &bad_sig, body.as_bytes()),
            Err(CryptError::Signature)
        );
        // The same message opened by another platform (same key and token).
        let other = MsgCrypt::new("platform-token", KEY, "wxcomponent000002").unwrap();
        assert_eq!(open(&other, &q, body.as_bytes()), Err(CryptError::Appid));
        // A message whose inner AppId is not ours, sealed with our appid.
        let foreign = message_xml(&[
            ("AppId", "wxintruder".into()),
            ("InfoType", "unauthorized".into()),
        ]);
        let (body2, q2) = seal(&c, &foreign, "1", "n", [1; 16]);
        assert_eq!(open(&c, &q2, body2.as_bytes()), Err(CryptError::Appid));
        for junk in [
            "",
            "<xml>",
            "<xml><a><b>1</b></a></xml>",
            "not xml",
            "<xml/>",
        ] {
            assert!(
                matches!(open(&c, &q, junk.as_bytes()), Err(CryptError::Xml(_))),
                "{junk:?}"
            );
        }
        let huge = format!(
            "<xml><Encrypt>{}</Encrypt></xml>",
            "A".repeat(MAX_BODY_BYTES)
        );
        assert!(matches!(
            open(&c, &q, huge.as_bytes()),
            Err(CryptError::Xml(m)) if m.contains("more than")
        ));
        let doctype = "<!DOCTYPE x [<!ENTITY a \"b\">]><xml><Encrypt>&a;</Encrypt></xml>";
        assert!(matches!(
            open(&c, &q, doctype.as_bytes()),
            Err(CryptError::Xml(_))
        ));
    }

    #[test]
    fn nested_elements_are_read_as_a_tree_and_their_text_fields_are_kept() {
        // notify_third_fasteregister, as WeChat documents it.
        let xml = b"<xml><AppId><![CDATA[wxcomp]]></AppId><CreateTime>1535442403</CreateTime>\
<InfoType><![CDATA[notify_third_fasteregister]]></InfoType><status>0</status>\
<info>\n  <name><![CDATA[company]]></name><code_type>1</code_type></info></xml>";
        let tree = xml_tree(xml).unwrap();
        assert_eq!(
            tree.last().unwrap(),
            &(
                "info".to_string(),
                XmlNode::Elements(vec![
                    ("name".into(), XmlNode::Text("company".into())),
                    ("code_type".into(), XmlNode::Text("1".into())),
                ])
            )
        );
        let v = node_value(tree.last().unwrap().1.clone());
        assert_eq!(
            v,
            serde_json::json!({ "name": "company", "code_type": "1" })
        );
        // The flat view leaves the nested element out.
        assert_eq!(xml_fields(xml).unwrap().len(), 4);
    }

    #[test]
    fn what_is_still_refused() {
        for bad in [
            &b"<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><A>&e;</A></xml>"[..],
            b"<xml><A>text<B>x</B></A></xml>",
            b"<xml><A>1</A></xml><xml/>",
            b"<xml><A>1</A>",
            b"<xml><A>&unknown;</A></xml>",
        ] {
            assert!(
                matches!(xml_tree(bad), Err(CryptError::Xml(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!(
            "<xml>{}x{}</xml>",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(xml_tree(deep.as_bytes()), Err(CryptError::Xml(_))));
        let ok = format!(
            "<xml>{}x{}</xml>",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(xml_tree(ok.as_bytes()).is_ok());
    }

    #[test]
    fn xml_fields_reads_entities_and_cdata() {
        let f = xml_fields(b"<xml><A>x &amp; y</A><B><![CDATA[<z>]]></B><C/></xml>").unwrap();
        assert_eq!(
            f,
            vec![
                ("A".to_string(), "x & y".to_string()),
                ("B".to_string(), "<z>".to_string()),
                ("C".to_string(), String::new()),
            ]
        );
    }
}
