//! Keys and the few primitives tipline uses: sealing (XChaCha20-Poly1305 with the row identity as
//! associated data), keyed MACs for pseudonyms, blind-index terms, tipster secrets and the audit
//! chain (HMAC-SHA256), random numbers, and constant-time comparison. Small and boring on purpose.
//! It must never log or print key material; the types here do not implement `Debug` for keys.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Format byte of a sealed value; bump when the layout changes.
const SEALED_FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// What went wrong in a crypto operation.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// Opening failed: wrong key, wrong row, or the value was altered.
    #[error("sealed value does not open (wrong key or row, or tampered)")]
    Open,
    /// A sealed value was sealed with a key version that is not loaded.
    #[error("sealed with key version {0}, which is not loaded")]
    UnknownKeyVersion(u32),
    /// The master key could not be read, created or parsed.
    #[error("master key: {0}")]
    MasterKey(String),
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Random)
}

/// A uniformly random integer below `bound` (rejection sampling, no modulo bias).
pub fn random_below(bound: u64) -> Result<u64, CryptoError> {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let v = getrandom::u64().map_err(|_| CryptoError::Random)?;
        if v < zone {
            return Ok(v % bound);
        }
    }
}

/// `n` uniformly random decimal digits.
pub fn random_digits(n: usize) -> Result<String, CryptoError> {
    (0..n)
        .map(|_| random_below(10).map(|d| char::from(b'0' + d as u8)))
        .collect()
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}

/// The 32-byte master key. Everything else is derived from it or wrapped by it; without it the
/// database reveals no tip text.
pub struct MasterKey(Zeroizing<[u8; 32]>);

/// Where the master key came from, for `tipline check` (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Read from an existing file.
    File(String),
    /// Created now, in this file.
    Created(String),
    /// Given by the `TIPLINE_MASTER_KEY` environment variable.
    Environment,
}

impl MasterKey {
    /// Parses 64 hex digits (the form of `TIPLINE_MASTER_KEY` and of the key file).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let mut key = Zeroizing::new([0u8; 32]);
        if text.len() != 64 || decode_hex(text, key.as_mut()).is_none() {
            return Err(CryptoError::MasterKey(
                "must be 64 hexadecimal digits (32 bytes)".into(),
            ));
        }
        Ok(Self(key))
    }

    /// Reads the key file, or creates it (mode 0600, never overwriting) if it does not exist.
    /// Refuses a file that others can read.
    pub fn load_or_create(path: &Path) -> Result<(Self, KeySource), CryptoError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                Ok((Self::from_hex(&text)?, KeySource::File(shown)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::create(path)?;
                Ok((key, KeySource::Created(shown)))
            }
            Err(e) => Err(CryptoError::MasterKey(format!("cannot read {shown}: {e}"))),
        }
    }

    fn create(path: &Path) -> Result<Self, CryptoError> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut key = Zeroizing::new([0u8; 32]);
        fill_random(key.as_mut())?;
        let hex = Zeroizing::new(encode_hex(key.as_ref()));
        let fail = |e: std::io::Error| {
            CryptoError::MasterKey(format!("cannot create {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(fail)?;
        file.write_all(hex.as_bytes()).map_err(fail)?;
        file.write_all(b"\n").map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(Self(key))
    }

    /// Derives the purpose keys. Each purpose has its own key so that, e.g., a pseudonym can never
    /// be confused with a search term.
    pub fn derive(&self) -> Keys {
        let sub = |label: &str| {
            let mut mac = hmac_key(self.0.as_ref());
            mac.update(b"tipline/v1/");
            mac.update(label.as_bytes());
            Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()))
        };
        let keyed = |label: &str| hmac_key(sub(label).as_ref());
        Keys {
            wrap: sub("wrap-data-keys"),
            pseudonym: keyed("pseudonym"),
            search: keyed("blind-index"),
            secret: keyed("tipster-secret"),
            audit: keyed("audit-chain"),
            limiter: keyed("rate-limit"),
            form: keyed("officer-form-token"),
        }
    }
}

fn check_private(path: &Path) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| CryptoError::MasterKey(format!("{}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(CryptoError::MasterKey(format!(
            "{} can be read by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// HMAC-SHA256 of `data` under `key` (signatures of outgoing webhooks).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac_key(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `data` under `key` (Twilio's webhook signatures; SHA-1 is what Twilio signs
/// with, and HMAC-SHA1 is still sound as a MAC).
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = match <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                s.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn hmac_key(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Keys derived from the master key, one per purpose. The MAC keys are kept as keyed HMAC states,
/// cloned per use: that saves two SHA-256 blocks per MAC on the intake path (dozens per tip).
pub struct Keys {
    wrap: Zeroizing<[u8; 32]>,
    pseudonym: HmacSha256,
    search: HmacSha256,
    secret: HmacSha256,
    audit: HmacSha256,
    limiter: HmacSha256,
    form: HmacSha256,
}

/// HMAC-SHA256 over length-prefixed parts, so that ("ab","c") and ("a","bc") differ.
fn mac_parts(keyed: &HmacSha256, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed.clone();
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl Keys {
    /// Pseudonym of a sender: cannot be reversed, same for the same channel and identifier.
    pub fn pseudonym(&self, channel: &str, identifier: &str) -> [u8; 32] {
        mac_parts(
            &self.pseudonym,
            &[channel.as_bytes(), identifier.as_bytes()],
        )
    }

    /// Blind-index term of one normalised word (16 bytes are plenty to avoid collisions).
    pub fn search_term(&self, word: &str) -> [u8; 16] {
        let full = mac_parts(&self.search, &[word.as_bytes()]);
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// Keyed hash of a tipster secret, bound to the tip number. The key lives outside the
    /// database, so a copy of the database alone cannot test guesses.
    pub fn secret_mac(&self, tip_number: &str, secret: &str) -> [u8; 32] {
        mac_parts(&self.secret, &[tip_number.as_bytes(), secret.as_bytes()])
    }

    /// MAC of one audit entry over its parts, chained by the previous entry's MAC.
    pub fn audit_mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac_parts(&self.audit, parts)
    }

    /// Keyed hash used only by in-memory rate limiters (never stored).
    pub fn limiter_mac(&self, value: &[u8]) -> [u8; 32] {
        mac_parts(&self.limiter, &[value])
    }

    /// The anti-forgery token of an officer's forms: bound to the session (by the hash of its
    /// cookie) and to nothing an attacker can read. Compared with [`ct_eq`].
    pub fn form_token(&self, session_hash: &[u8]) -> [u8; 32] {
        mac_parts(&self.form, &[session_hash])
    }

    /// Wraps a data key for storage. The associated data binds it to its scope and version.
    pub fn wrap_data_key(
        &self,
        scope: &str,
        version: u32,
        key: &DataKey,
    ) -> Result<Vec<u8>, CryptoError> {
        let aad = wrap_aad(scope, version);
        seal_with(self.wrap.as_ref(), 0, &aad, key.key.as_ref())
    }

    /// Unwraps a stored data key.
    pub fn unwrap_data_key(
        &self,
        scope: &str,
        version: u32,
        wrapped: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let aad = wrap_aad(scope, version);
        let plain = Zeroizing::new(open_with(self.wrap.as_ref(), &aad, wrapped)?);
        let mut key = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(CryptoError::Open);
        }
        key.copy_from_slice(&plain);
        Ok(DataKey { version, key })
    }
}

fn wrap_aad(scope: &str, version: u32) -> Vec<u8> {
    format!("data_key|{scope}|{version}").into_bytes()
}

/// A per-scope (per-district) data key that seals tip content.
pub struct DataKey {
    version: u32,
    key: Zeroizing<[u8; 32]>,
}

impl DataKey {
    /// A new random key with the given version.
    pub fn generate(version: u32) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        fill_random(key.as_mut())?;
        Ok(Self { version, key })
    }

    /// Its version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Seals `plaintext` bound to `aad` (the row identity, e.g. `tip.text|<tip id>`).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(self.key.as_ref(), self.version, aad, plaintext)
    }

    /// Opens a value sealed by [`DataKey::seal`] with the same associated data.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match sealed_key_version(sealed) {
            Some(v) if v == self.version => open_with(self.key.as_ref(), aad, sealed),
            Some(v) => Err(CryptoError::UnknownKeyVersion(v)),
            None => Err(CryptoError::Open),
        }
    }
}

/// The key version a sealed value names in its header.
pub fn sealed_key_version(sealed: &[u8]) -> Option<u32> {
    if sealed.len() < HEADER_LEN || sealed[0] != SEALED_FORMAT {
        return None;
    }
    Some(u32::from_be_bytes([
        sealed[1], sealed[2], sealed[3], sealed[4],
    ]))
}

/// Layout: format byte, key version (u32 BE), 24-byte random nonce, ciphertext with tag.
fn seal_with(
    key: &[u8],
    version: u32,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::Open)?;
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Open)?;
    let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
    out.push(SEALED_FORMAT);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_with(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < HEADER_LEN || sealed[0] != SEALED_FORMAT {
        return Err(CryptoError::Open);
    }
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::Open)?;
    let nonce = XNonce::try_from(&sealed[5..HEADER_LEN]).map_err(|_| CryptoError::Open)?;
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &sealed[HEADER_LEN..],
                aad,
            },
        )
        .map_err(|_| CryptoError::Open)
}

/// Lower-case hex of `bytes`.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn decode_hex(text: &str, out: &mut [u8]) -> Option<()> {
    let bytes = text.as_bytes();
    if bytes.len() != out.len() * 2 {
        return None;
    }
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(encode_base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    fn keys() -> Keys {
        MasterKey::from_hex(&"11".repeat(32)).unwrap().derive()
    }

    #[test]
    fn seal_opens_only_with_same_row_and_key() {
        let k = DataKey::generate(3).unwrap();
        let sealed = k.seal(b"tip.text|42", "गांजा बिक रहा है".as_bytes()).unwrap();
        assert_eq!(sealed_key_version(&sealed), Some(3));
        assert_eq!(
            k.open(b"tip.text|42", &sealed).unwrap(),
            "गांजा बिक रहा है".as_bytes()
        );
        assert!(matches!(
            k.open(b"tip.text|43", &sealed),
            Err(CryptoError::Open)
        ));
        let other = DataKey::generate(3).unwrap();
        assert!(other.open(b"tip.text|42", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(k.open(b"tip.text|42", &tampered).is_err());
        let needle = "गांजा".as_bytes();
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn data_keys_wrap_and_unwrap_bound_to_scope() {
        let ks = keys();
        let dk = DataKey::generate(1).unwrap();
        let wrapped = ks.wrap_data_key("korba", 1, &dk).unwrap();
        let back = ks.unwrap_data_key("korba", 1, &wrapped).unwrap();
        let sealed = dk.seal(b"x", b"hello").unwrap();
        assert_eq!(back.open(b"x", &sealed).unwrap(), b"hello");
        assert!(ks.unwrap_data_key("raigarh", 1, &wrapped).is_err());
        assert!(ks.unwrap_data_key("korba", 2, &wrapped).is_err());
    }

    #[test]
    fn macs_are_separated_by_purpose_and_parts() {
        let ks = keys();
        assert_ne!(ks.pseudonym("sms", "+91"), ks.secret_mac("sms", "+91"));
        assert_ne!(ks.secret_mac("12", "3"), ks.secret_mac("1", "23"));
        assert_eq!(ks.search_term("गांजा"), ks.search_term("गांजा"));
        let other = MasterKey::from_hex(&"22".repeat(32)).unwrap().derive();
        assert_ne!(ks.search_term("गांजा"), other.search_term("गांजा"));
    }

    #[test]
    fn random_digits_are_digits_and_vary() {
        let a = random_digits(15).unwrap();
        assert_eq!(a.len(), 15);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(a, random_digits(15).unwrap());
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"ab", b"abc"));
    }

    #[test]
    fn master_key_file_is_created_private_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let (k1, src) = MasterKey::load_or_create(&path).unwrap();
        assert!(matches!(src, KeySource::Created(_)));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (k2, src) = MasterKey::load_or_create(&path).unwrap();
        assert!(matches!(src, KeySource::File(_)));
        assert_eq!(k1.derive().search_term("a"), k2.derive().search_term("a"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(MasterKey::load_or_create(&path).is_err());
        assert!(MasterKey::from_hex("zz").is_err());
    }
}
