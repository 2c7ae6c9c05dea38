//! 64-bit FNV-1a (Fowler, Noll & Vo): a tiny, stable, non-cryptographic hash. The same bytes
//! give the same value on every platform and in every run, so it can be stored in files
//! (model checksums, world fingerprints) and used to assign users to shards.

/// The FNV-1a 64-bit offset basis.
const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// The FNV 64-bit prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An incremental FNV-1a hasher: feed bytes, integers and strings, then read [`Fnv1a::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(OFFSET_BASIS)
    }
}

impl Fnv1a {
    /// A hasher at the offset basis.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes `b`, byte by byte.
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// Hashes the eight little-endian bytes of `x`.
    #[inline]
    pub fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }

    /// Hashes a string as its length (as [`Fnv1a::u64`]) followed by its bytes, so that
    /// consecutive strings cannot run into each other ("ab" + "c" differs from "a" + "bc").
    #[inline]
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// The hash of everything fed so far.
    #[inline]
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The FNV-1a hash of `bytes` (no length prefix).
///
/// # Complexity
/// O(bytes.len()).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.bytes(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // FNV-1a 64 test vectors
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn strings_are_length_prefixed() {
        let (mut a, mut b) = (Fnv1a::new(), Fnv1a::new());
        a.str("ab");
        a.str("c");
        b.str("a");
        b.str("bc");
        assert_ne!(a.finish(), b.finish());
        let mut c = Fnv1a::new();
        c.u64(2);
        c.bytes(b"ab");
        let mut d = Fnv1a::new();
        d.str("ab");
        assert_eq!(c, d);
    }
}
