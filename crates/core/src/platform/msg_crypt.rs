//! WeChat's message crypto ("WXBizMsgCrypt"), the scheme of the messages a
//! third-party platform receives at its event URL
//! (`../shared/spec/https-api.md`, "Third-party platform events"):
//!
//! - `msg_signature` = hex SHA-1 of token, timestamp, nonce and `Encrypt`,
//!   sorted as byte strings and concatenated;
//! - AES-256-CBC, key = Base64(EncodingAESKey + "="), IV = the key's first
//!   16 bytes;
//! - plaintext = 16 random bytes ‖ length (u32, big-endian) ‖ message ‖
//!   appid, padded PKCS#7-style to a multiple of 32 bytes.
//!
//! Failures carry the codes of WeChat's own sample (`WXBizMsgCrypt`):
//! -40001 signature, -40002 XML, -40004 EncodingAESKey, -40005 appid,
//! -40007 decryption (padding), -40008 buffer (length), -40010 Base64.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{alphabet, Engine};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha1::{Digest, Sha1};

use subtle::ConstantTimeEq;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// The EncodingAESKey's last character carries 2 bits beyond the 32 bytes,
/// which WeChat's own samples ignore (the keys it issues often set them).
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// WeChat pads to a multiple of 32 bytes (not AES's 16).
const PAD_BLOCK: usize = 32;

/// Why a message could not be opened (or a crypt not be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptError {
    /// -40001: `msg_signature` does not match.
    Signature,
    /// -40002: the body or the decrypted message is not the expected XML.
    Xml(String),
    /// -40004: the EncodingAESKey is not 43 characters of Base64.
    AesKey,
    /// -40005: the message is for another appid.
    Appid,
    /// -40007: the ciphertext is not whole blocks or its padding is wrong.
    Decrypt,
    /// -40008: the length field does not fit the plaintext.
    Buffer,
    /// -40010: `Encrypt` is not Base64.
    Base64,
}

impl CryptError {
    /// The code WeChat's `WXBizMsgCrypt` sample gives this failure.
    pub fn code(&self) -> i64 {
        match self {
            CryptError::Signature => -40001,
            CryptError::Xml(_) => -40002,
            CryptError::AesKey => -40004,
            CryptError::Appid => -40005,
            CryptError::Decrypt => -40007,
            CryptError::Buffer => -40008,
            CryptError::Base64 => -40010,
        }
    }

    /// What went wrong, in words (no secret, no message content).
    pub fn describe(&self) -> String {
        match self {
            CryptError::Signature => {
                "msg_signature does not match (wrong token, or the message was altered)".into()
            }
            CryptError::Xml(why) => format!("the message is not the expected XML: {why}"),
            CryptError::AesKey => {
                "encodingAesKey must be the 43 Base64 characters set on the platform".into()
            }
            CryptError::Appid => "the message is for another appid".into(),
            CryptError::Decrypt => {
                "the message does not decrypt (wrong encodingAesKey, or bad padding)".into()
            }
            CryptError::Buffer => "the decrypted message has a wrong length field".into(),
            CryptError::Base64 => "Encrypt is not Base64".into(),
        }
    }
}

/// One platform's message crypto: its token, AES key and appid (the token
/// and key redacted from `Debug`).
#[derive(Debug)]
pub struct MsgCrypt {
    token: SecretString,
    key: SecretBox<[u8; 32]>,
    appid: String,
}

impl MsgCrypt {
    /// `encoding_aes_key`: the 43-character key set on the platform.
    pub fn new(token: &str, encoding_aes_key: &str, appid: &str) -> Result<MsgCrypt, CryptError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptError::AesKey);
        }
        let bytes = KEY_BASE64
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptError::AesKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptError::AesKey)?;
        Ok(MsgCrypt {
            token: token.into(),
            key: SecretBox::new(Box::new(key)),
            appid: appid.to_string(),
        })
    }

    /// The appid messages are for.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// `msg_signature` of a message.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.expose_secret(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut h = Sha1::new();
        for p in parts {
            h.update(p.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Check `msg_signature` (compared in constant time, case-insensitively).
    pub fn verify(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CryptError> {
        let want = self.signature(timestamp, nonce, encrypt);
        let got = msg_signature.to_ascii_lowercase();
        if bool::from(want.as_bytes().ct_eq(got.as_bytes())) {
            Ok(())
        } else {
            Err(CryptError::Signature)
        }
    }

    /// `Encrypt` of a message, with the given 16 random bytes.
    pub fn encrypt(&self, message: &str, random: [u8; 16]) -> String {
        let msg = message.as_bytes();
        let mut plain = Vec::with_capacity(20 + msg.len() + self.appid.len() + PAD_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(self.appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let len = plain.len();
        let cipher = Encryptor::new(&(*self.key.expose_secret()).into(), &self.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(cipher)
    }

    /// The message inside `Encrypt`: checks the padding, the length field
    /// and that the trailing appid is ours.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptError> {
        let mut buf = STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CryptError::Base64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CryptError::Decrypt);
        }
        let plain = Decryptor::new(&(*self.key.expose_secret()).into(), &self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptError::Decrypt)?;
        let pad = usize::from(*plain.last().ok_or(CryptError::Decrypt)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptError::Decrypt);
        }
        let (content, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptError::Decrypt);
        }
        if content.len() < 20 {
            return Err(CryptError::Buffer);
        }
        let len_field: [u8; 4] = content[16..20].try_into().map_err(|_| CryptError::Buffer)?;
        let msg_len = u32::from_be_bytes(len_field) as usize;
        let rest = &content[20..];
        if msg_len > rest.len() {
            return Err(CryptError::Buffer);
        }
        let (msg, appid) = rest.split_at(msg_len);
        if !bool::from(appid.ct_eq(self.appid.as_bytes())) {
            return Err(CryptError::Appid);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptError::Xml("not UTF-8".into()))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key.expose_secret()[..16]);
        iv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from wechatpy (MIT), an implementation written independently
    // of ours: github.com/wechatpy/wechatpy, tests/test_crypto.py at commit
    // 5b8502e (`CryptoTestCase`). WeChat Work uses the same scheme with the
    // corp id in the appid's place.
    const TOKEN: &str = "123456";
    const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
    const ID: &str = "wx49f0ab532d5d035a";

    // test_encrypt_message: random "1234567890123456", nonce, timestamp.
    const REPLY: &str = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    const REPLY_ENCRYPT: &str = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3";
    const REPLY_SIGNATURE: &str = "407518b7649e86ef23978113f92d27afa9296533";

    // test_decrypt_message.
    const INCOMING_ENCRYPT: &str = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
    const INCOMING_SIGNATURE: &str = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d";

    // test_check_signature_should_ok / _should_fail (an echo string).
    const ECHO: &str =
        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
    const ECHO_SIGNATURE: &str = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";

    fn crypt() -> MsgCrypt {
        MsgCrypt::new(TOKEN, KEY, ID).unwrap()
    }

    #[test]
    fn encrypts_and_signs_like_wechatpy() {
        let c = crypt();
        let enc = c.encrypt(REPLY, *b"1234567890123456");
        assert_eq!(enc, REPLY_ENCRYPT);
        assert_eq!(
            c.signature("1411525903", "461056294", &enc),
            REPLY_SIGNATURE
        );
        assert_eq!(c.decrypt(&enc).unwrap(), REPLY);
    }

    #[test]
    fn decrypts_wechatpy_message() {
        let c = crypt();
        c.verify(
            INCOMING_SIGNATURE,
            "1411525903",
            "461056294",
            INCOMING_ENCRYPT,
        )
        .unwrap();
        let msg = c.decrypt(INCOMING_ENCRYPT).unwrap();
        assert!(msg.contains("<Content><![CDATA[test]]></Content>"), "{msg}");
        assert!(msg.contains("<FromUserName><![CDATA[messense]]></FromUserName>"));
    }

    #[test]
    fn echo_signature_checks_and_a_changed_nonce_fails() {
        let c = crypt();
        c.verify(ECHO_SIGNATURE, "1411443780", "437374425", ECHO)
            .unwrap();
        assert_eq!(
            c.verify(ECHO_SIGNATURE, "1411443780", "437374424", ECHO),
            Err(CryptError::Signature)
        );
        // Upper-case hex is the same signature.
        c.verify(
            &ECHO_SIGNATURE.to_ascii_uppercase(),
            "1411443780",
            "437374425",
            ECHO,
        )
        .unwrap();
    }

    #[test]
    fn tampered_messages_are_refused() {
        let c = crypt();
        // Another appid: the same key, a different trailing id.
        let other = MsgCrypt::new(TOKEN, KEY, "wxsomeoneelse00000").unwrap();
        assert_eq!(other.decrypt(INCOMING_ENCRYPT), Err(CryptError::Appid));
        // A flipped bit in the last block breaks the padding.
        let mut raw = STANDARD.decode(INCOMING_ENCRYPT).unwrap();
        let n = raw.len();
        raw[n - 1] ^= 0x01;
        assert_eq!(c.decrypt(&STANDARD.encode(&raw)), Err(CryptError::Decrypt));
        // A truncated ciphertext (not whole blocks).
        raw.truncate(n - 5);
        assert_eq!(c.decrypt(&STANDARD.encode(&raw)), Err(CryptError::Decrypt));
        assert_eq!(c.decrypt("not base64!"), Err(CryptError::Base64));
        assert_eq!(c.decrypt(""), Err(CryptError::Decrypt));
        // Another key: padding (or, rarely, the length/appid) fails.
        let wrong =
            MsgCrypt::new(TOKEN, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", ID).unwrap();
        assert!(wrong.decrypt(INCOMING_ENCRYPT).is_err());
    }

    #[test]
    fn length_field_is_checked() {
        let c = crypt();
        // Hand-made plaintext whose length field claims more than there is.
        let mut plain = vec![0u8; 16];
        plain.extend_from_slice(&1000u32.to_be_bytes());
        plain.extend_from_slice(b"<xml/>");
        plain.extend_from_slice(ID.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let len = plain.len();
        let enc = Encryptor::new(&(*c.key.expose_secret()).into(), &c.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap()
            .to_vec();
        assert_eq!(c.decrypt(&STANDARD.encode(enc)), Err(CryptError::Buffer));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(
            MsgCrypt::new(TOKEN, "short", ID).unwrap_err(),
            CryptError::AesKey
        );
        let not_b64 = "!".repeat(43);
        assert_eq!(
            MsgCrypt::new(TOKEN, &not_b64, ID).unwrap_err(),
            CryptError::AesKey
        );
        assert_eq!(CryptError::Signature.code(), -40001);
        // Debug never shows the token or key.
        let shown = format!("{:?}", crypt());
        assert!(!shown.contains(TOKEN) && !shown.contains(KEY));
    }
}
