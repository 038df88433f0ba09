//! Named secrets the guest never sees: the host computes HMACs with them.
//! The secrets are the operator's [`katabox_verify::Secrets`] (shared with
//! verified webhooks: `secrets.toml` / `secrets.json` in the data directory
//! and `KATABOX_SECRET_*` variables).

use hmac::{Hmac, Mac};
use std::sync::Arc;

/// Named secrets configured by the operator (cheap to clone).
#[derive(Clone, Default)]
pub struct Secrets {
    values: Arc<katabox_verify::Secrets>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.names().collect::<Vec<_>>())
            .finish()
    }
}

impl From<katabox_verify::Secrets> for Secrets {
    fn from(values: katabox_verify::Secrets) -> Self {
        Secrets {
            values: Arc::new(values),
        }
    }
}

impl Secrets {
    /// Loads the operator's secrets from `data_dir` and the process
    /// environment (see [`katabox_verify::Secrets::load`]); returns them
    /// with warnings for the operator.
    pub fn load(
        data_dir: &std::path::Path,
    ) -> Result<(Secrets, Vec<String>), katabox_verify::SecretLoadError> {
        let loaded = katabox_verify::Secrets::load(data_dir, std::env::vars_os())?;
        Ok((Secrets::from(loaded.secrets), loaded.warnings))
    }

    /// Adds (or replaces) a secret; an invalid name or empty value is
    /// ignored (such a secret could never be loaded either).
    pub fn insert(&mut self, name: &str, value: &[u8]) {
        let values = Arc::make_mut(&mut self.values);
        let _ = values.insert(name, katabox_verify::Secret::new(value.to_vec()));
    }

    /// Whether no secret is configured.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// HMAC of `data` with the named secret (`sha1`, `sha256`, `sha512`).
    pub fn hmac(&self, secret: &str, algorithm: &str, data: &[u8]) -> Result<Vec<u8>, String> {
        let key = self
            .values
            .get(secret)
            .ok_or_else(|| format!("Unknown secret ({secret})"))?
            .expose();
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
