//! Random secrets (session tokens, API tokens, generated passwords) and their stored hashes.

use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

/// A random secret with `bytes` bytes of entropy, hex-encoded, with a readable prefix.
pub fn token(prefix: &str, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill(raw.as_mut_slice());
    format!("{prefix}{}", hex::encode(raw))
}

/// The form in which a high-entropy token is stored: SHA-256, hex. (Tokens are random,
/// so a slow password hash would add nothing but latency.)
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A password for a person to type once and change: 16 letters and digits (~95 bits).
pub fn generated_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_each_time_and_hash_stably() {
        let (a, b) = (token("gc_", 32), token("gc_", 32));
        assert_ne!(a, b);
        assert!(a.starts_with("gc_") && a.len() == 3 + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(generated_password().len(), 16);
    }
}
