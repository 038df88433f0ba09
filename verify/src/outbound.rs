//! Secrets injected into outgoing requests: `http.request`'s
//! `authentication: cerb:connected_account:NAME` names an operator-defined
//! account, and the host adds the account's header. The script never sees
//! the value.
//!
//! Accounts live in `accounts.toml` in the data directory:
//!
//! ```toml
//! [github_api]
//! type = "bearer"          # Authorization: Bearer <secret>
//! secret = "github_token"
//!
//! [legacy]
//! type = "basic"           # Authorization: Basic base64(username:secret)
//! username = "api"
//! secret = "legacy_password"
//!
//! [partner]
//! type = "header"          # X-Api-Key: <secret>
//! header = "X-Api-Key"
//! secret = "partner_key"
//! hosts = ["api.partner.example", "*.partner.example"]   # optional binding
//! ```
//!
//! `hosts` (any type) binds an account to hosts: its header is sent only to
//! a host that matches one entry (exactly, or `*.domain` for any subdomain),
//! and a request to any other host is refused. Without `hosts` the header
//! goes to the host the script names, and never follows a redirect to
//! another host.

use crate::secret::{Secret, Secrets};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;
use zeroize::Zeroizing;

/// The accounts file looked for in the data directory.
pub const ACCOUNTS_FILE: &str = "accounts.toml";

/// The prefix of an account reference in `authentication:`.
pub const ACCOUNT_REF_PREFIX: &str = "cerb:connected_account:";

/// How an account authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Account {
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// The secret's name.
        secret: String,
        /// The hosts the header may be sent to (empty: the request's host).
        #[serde(default)]
        hosts: Vec<String>,
    },
    /// `Authorization: Basic base64(<username>:<secret>)`.
    Basic {
        /// The user name (not secret).
        username: String,
        /// The password's secret name.
        secret: String,
        /// The hosts the header may be sent to (empty: the request's host).
        #[serde(default)]
        hosts: Vec<String>,
    },
    /// `<header>: <secret>`.
    Header {
        /// The header name.
        header: String,
        /// The secret's name.
        secret: String,
        /// The hosts the header may be sent to (empty: the request's host).
        #[serde(default)]
        hosts: Vec<String>,
    },
}

impl Account {
    /// The hosts this account is bound to (empty: not bound).
    pub fn hosts(&self) -> &[String] {
        match self {
            Account::Bearer { hosts, .. }
            | Account::Basic { hosts, .. }
            | Account::Header { hosts, .. } => hosts,
        }
    }

    /// Whether the account's header may be sent to `host`: any host when
    /// the account is not bound, else a host matching one entry exactly or,
    /// for `*.domain`, any subdomain of `domain` (case-insensitive).
    pub fn allows_host(&self, host: &str) -> bool {
        let hosts = self.hosts();
        hosts.is_empty() || hosts.iter().any(|pattern| host_matches(pattern, host))
    }
}

/// `host` matches `pattern` exactly or, for `*.domain`, as a subdomain.
fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}")),
        None => !pattern.is_empty() && host == pattern,
    }
}

/// Why an account could not authenticate. The texts are Cerb's (they fail
/// the automation, bypassing `on_error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The reference names no account (or is not `cerb:connected_account:…`).
    #[error("Unknown account for authentication ({0})")]
    UnknownAccount(String),
    /// The account names a missing secret, or its header cannot be built.
    #[error("Failed to authenticate with account ({0})")]
    Failed(String),
}

/// Why `accounts.toml` could not be loaded (never quotes the file).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AccountsError {
    /// The file exists but could not be read.
    #[error("cannot read {ACCOUNTS_FILE}: {0}")]
    Io(std::io::ErrorKind),
    /// The file does not parse, or an account is not one of the types.
    #[error("{ACCOUNTS_FILE}: invalid at line {0}")]
    Invalid(usize),
}

/// The operator's accounts by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    accounts: BTreeMap<String, Account>,
}

impl Accounts {
    /// Parses an `accounts.toml` document.
    pub fn from_toml_str(text: &str) -> Result<Self, AccountsError> {
        let accounts: BTreeMap<String, Account> = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            AccountsError::Invalid(
                text.as_bytes()
                    .iter()
                    .take(at)
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1,
            )
        })?;
        Ok(Accounts { accounts })
    }

    /// Loads `accounts.toml` from `data_dir`; none when it does not exist.
    pub fn load(data_dir: &Path) -> Result<Self, AccountsError> {
        match std::fs::read_to_string(data_dir.join(ACCOUNTS_FILE)) {
            Ok(text) => Accounts::from_toml_str(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Accounts::default()),
            Err(e) => Err(AccountsError::Io(e.kind())),
        }
    }

    /// Adds or replaces an account.
    pub fn insert(&mut self, name: &str, account: Account) {
        self.accounts.insert(name.to_string(), account);
    }

    /// The account called `name`.
    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    /// The account an `authentication:` reference names.
    pub fn by_reference(&self, reference: &str) -> Option<&Account> {
        self.get(reference.strip_prefix(ACCOUNT_REF_PREFIX)?)
    }

    /// The header (name, value) to add for an `authentication:` reference
    /// (`cerb:connected_account:NAME`). The value is a [`Secret`]: set it on
    /// the outgoing request only, never log it or hand it to the guest.
    pub fn authorization(
        &self,
        reference: &str,
        secrets: &Secrets,
    ) -> Result<(String, Secret), AuthError> {
        let account = self
            .by_reference(reference)
            .ok_or_else(|| AuthError::UnknownAccount(reference.to_string()))?;
        let failed = || AuthError::Failed(reference.to_string());
        let secret_of = |secret_name: &str| secrets.get(secret_name).ok_or_else(failed);
        let (header, value) = match account {
            Account::Bearer { secret, .. } => {
                let mut value = Zeroizing::new(b"Bearer ".to_vec());
                value.extend_from_slice(secret_of(secret)?.expose());
                ("authorization".to_string(), value)
            }
            Account::Basic {
                username, secret, ..
            } => {
                let mut pair = Zeroizing::new(username.as_bytes().to_vec());
                pair.push(b':');
                pair.extend_from_slice(secret_of(secret)?.expose());
                let encoded = Zeroizing::new(STANDARD.encode(pair.as_slice()));
                let mut value = Zeroizing::new(b"Basic ".to_vec());
                value.extend_from_slice(encoded.as_bytes());
                ("authorization".to_string(), value)
            }
            Account::Header { header, secret, .. } => {
                let valid = !header.is_empty()
                    && header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !valid {
                    return Err(failed());
                }
                let value = Zeroizing::new(secret_of(secret)?.expose().to_vec());
                (header.to_ascii_lowercase(), value)
            }
        };
        // A header value may not carry line breaks or other controls.
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(failed());
        }
        Ok((header, Secret::new(value.as_slice())))
    }
}
