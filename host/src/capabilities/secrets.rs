//! Named secrets the guest never sees: the host computes HMACs with them.

use hmac::{Hmac, Mac};
use std::collections::HashMap;

/// Named secrets configured by the operator.
#[derive(Clone, Default)]
pub struct Secrets {
    values: HashMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// Adds a secret.
    pub fn insert(&mut self, name: &str, value: &[u8]) {
        self.values.insert(name.to_string(), value.to_vec());
    }

    /// HMAC of `data` with the named secret (`sha1`, `sha256`, `sha512`).
    pub fn hmac(&self, secret: &str, algorithm: &str, data: &[u8]) -> Result<Vec<u8>, String> {
        let key = self
            .values
            .get(secret)
            .ok_or_else(|| format!("Unknown secret ({secret})"))?;
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
            let mut m =
                <M as hmac::digest::KeyInit>::new_from_slice(key).map_err(|e| e.to_string())?;
            m.update(data);
            Ok(m.finalize().into_bytes().to_vec())
        }
        match algorithm {
            "sha1" => mac::<Hmac<sha1::Sha1>>(key, data),
            "sha256" => mac::<Hmac<sha2::Sha256>>(key, data),
            "sha512" => mac::<Hmac<sha2::Sha512>>(key, data),
            other => Err(format!("Unknown HMAC algorithm ({other})")),
        }
    }
}
