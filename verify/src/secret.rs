//! Named secrets from the operator's configuration.
//!
//! Values are held in [`zeroize::Zeroizing`] buffers, never appear in
//! `Debug`/`Display` output or error messages, and the types implement no
//! `Serialize`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Environment variables `KATABOX_SECRET_<NAME>=value` define secret `<name>`.
pub const SECRETS_ENV_PREFIX: &str = "KATABOX_SECRET_";

/// The secrets files looked for in the data directory, in load order.
const SECRET_FILES: [&str; 2] = ["secrets.toml", "secrets.json"];

/// Longest accepted secret name.
const MAX_NAME_LEN: usize = 64;

/// Shorter secret values are not redacted by [`Secrets::redact`] (they
/// would match ordinary text).
pub const MIN_REDACT_LEN: usize = 6;

/// Largest accepted secrets file (bytes).
const MAX_FILE_LEN: u64 = 1 << 20;

/// One secret value: redacted when printed, zeroized when dropped.
#[derive(Clone)]
pub struct Secret {
    value: Zeroizing<Vec<u8>>,
}

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Secret {
            value: Zeroizing::new(value.into()),
        }
    }

    /// The value's bytes. Only for computing or checking a signature; never
    /// log, store or hand them to a guest.
    pub fn expose(&self) -> &[u8] {
        &self.value
    }

    /// The value as UTF-8 text, if it is.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the secrets could not be loaded. Never contains a secret value.
#[derive(Debug, Error)]
pub enum SecretLoadError {
    /// A secrets file exists but could not be read.
    #[error("cannot read {path}: {kind}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// A secrets file is larger than 1 MiB.
    #[error("{path} is too large")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A secrets file does not parse (the parser's message is withheld, as
    /// it may quote a value).
    #[error("{source_name}: syntax error at line {line}")]
    Syntax {
        /// The file (or "environment").
        source_name: String,
        /// 1-based line of the error (0 when unknown).
        line: usize,
    },
    /// An entry is not a string.
    #[error("{source_name}: secret {name} must be a string")]
    NotAString {
        /// The file.
        source_name: String,
        /// The entry's name.
        name: String,
    },
    /// A name is not 1–64 characters of `A-Z a-z 0-9 _ . -`.
    #[error("invalid secret name {0:?}")]
    InvalidName(String),
    /// A secret's value is empty.
    #[error("secret {0} is empty")]
    Empty(String),
}

/// The outcome of [`Secrets::load`]: the secrets and warnings for the
/// operator (e.g. a secrets file readable by other users).
#[derive(Debug, Default)]
pub struct LoadedSecrets {
    /// The secrets.
    pub secrets: Secrets,
    /// Human-readable warnings, free of secret values.
    pub warnings: Vec<String>,
}

/// Named secrets. Names are case-insensitive (stored lower-cased).
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, Secret>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a secret; returns whether one was replaced.
    pub fn insert(&mut self, name: &str, value: Secret) -> Result<bool, SecretLoadError> {
        let key = normalise_name(name)?;
        if value.expose().is_empty() {
            return Err(SecretLoadError::Empty(key));
        }
        Ok(self.values.insert(key, value).is_some())
    }

    /// The secret called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(&name.to_ascii_lowercase())
    }

    /// The configured names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// How many secrets there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every occurrence of a secret value of at least
    /// [`MIN_REDACT_LEN`] bytes replaced by `<redacted:NAME>`. Run log lines,
    /// run records and error texts through it before storing them.
    pub fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for (name, secret) in &self.values {
            let Some(value) = secret.expose_str() else {
                continue;
            };
            if value.len() >= MIN_REDACT_LEN && out.contains(value) {
                out = std::borrow::Cow::Owned(out.replace(value, &format!("<redacted:{name}>")));
            }
        }
        out
    }

    /// Parses a TOML document of `name = "value"` lines.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Secrets, SecretLoadError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| SecretLoadError::Syntax {
            source_name: source_name.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
        })?;
        let mut secrets = Secrets::new();
        let result = (|| {
            for (name, value) in &table {
                let toml::Value::String(value) = value else {
                    return Err(SecretLoadError::NotAString {
                        source_name: source_name.to_string(),
                        name: name.clone(),
                    });
                };
                secrets.insert(name, Secret::new(value.as_bytes()))?;
            }
            Ok(())
        })();
        for (_, value) in table.iter_mut() {
            if let toml::Value::String(s) = value {
                s.zeroize();
            }
        }
        result.map(|()| secrets)
    }

    /// Parses a JSON object of `"name": "value"` members.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<Secrets, SecretLoadError> {
        let syntax = |line: usize| SecretLoadError::Syntax {
            source_name: source_name.to_string(),
            line,
        };
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| syntax(e.line()))?;
        let mut secrets = Secrets::new();
        let result = match &value {
            serde_json::Value::Object(map) => (|| {
                for (name, value) in map {
                    let serde_json::Value::String(value) = value else {
                        return Err(SecretLoadError::NotAString {
                            source_name: source_name.to_string(),
                            name: name.clone(),
                        });
                    };
                    secrets.insert(name, Secret::new(value.as_bytes()))?;
                }
                Ok(())
            })(),
            _ => Err(syntax(1)),
        };
        if let serde_json::Value::Object(map) = &mut value {
            for member in map.values_mut() {
                if let serde_json::Value::String(s) = member {
                    s.zeroize();
                }
            }
        }
        result.map(|()| secrets)
    }

    /// Secrets from `KATABOX_SECRET_<NAME>` variables (other variables are
    /// ignored). Returns the secrets and warnings for skipped variables.
    pub fn from_env<I>(vars: I) -> (Secrets, Vec<String>)
    where
        I: IntoIterator<Item = (OsString, OsString)>,
    {
        let mut secrets = Secrets::new();
        let mut warnings = Vec::new();
        for (name, value) in vars {
            let Some(name) = name.to_str() else { continue };
            let Some(secret_name) = name.strip_prefix(SECRETS_ENV_PREFIX) else {
                continue;
            };
            let Ok(value) = value.into_string() else {
                warnings.push(format!("{name} is not valid UTF-8: ignored"));
                continue;
            };
            let value = Zeroizing::new(value);
            if let Err(e) = secrets.insert(secret_name, Secret::new(value.as_bytes())) {
                warnings.push(format!("{name}: {e}: ignored"));
            }
        }
        (secrets, warnings)
    }

    /// Loads `secrets.toml` and `secrets.json` from `data_dir` (each
    /// optional), then the `KATABOX_SECRET_*` variables of `env`; later
    /// sources replace earlier ones of the same name. Warns about files
    /// other users can read and about replaced names.
    pub fn load<I>(data_dir: &Path, env: I) -> Result<LoadedSecrets, SecretLoadError>
    where
        I: IntoIterator<Item = (OsString, OsString)>,
    {
        let mut loaded = LoadedSecrets::default();
        for file in SECRET_FILES {
            let path = data_dir.join(file);
            let Some(text) = read_secrets_file(&path, &mut loaded.warnings)? else {
                continue;
            };
            let found = if file.ends_with(".toml") {
                Secrets::from_toml_str(&text, file)?
            } else {
                Secrets::from_json_str(&text, file)?
            };
            loaded.merge(found, file);
        }
        let (from_env, warnings) = Secrets::from_env(env);
        loaded.warnings.extend(warnings);
        loaded.merge(from_env, "the environment");
        Ok(loaded)
    }
}

impl LoadedSecrets {
    fn merge(&mut self, other: Secrets, source_name: &str) {
        for (name, value) in other.values {
            if self.secrets.values.insert(name.clone(), value).is_some() {
                self.warnings.push(format!(
                    "secret {name} from {source_name} replaces an earlier one"
                ));
            }
        }
    }
}

/// Validates a secret name and lower-cases it.
fn normalise_name(name: &str) -> Result<String, SecretLoadError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(SecretLoadError::InvalidName(
            name.chars().take(MAX_NAME_LEN).collect(),
        ))
    }
}

/// Reads a secrets file if it exists, warning when its mode lets others read it.
fn read_secrets_file(
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Zeroizing<String>>, SecretLoadError> {
    let io = |e: std::io::Error| SecretLoadError::Io {
        path: path.to_path_buf(),
        kind: e.kind(),
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    if metadata.len() > MAX_FILE_LEN {
        return Err(SecretLoadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warnings.push(format!(
                "{} has mode {mode:04o}: other users may read it; run chmod 600 on it",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = warnings;
    let text = std::fs::read_to_string(path).map_err(io)?;
    Ok(Some(Zeroizing::new(text)))
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(at)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
