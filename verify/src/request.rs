//! A borrowed view of the request parts a verification looks at.

use crate::error::VerifyError;

/// The parts of a webhook request that verification reads.
///
/// It borrows from the host's own request type; header names are matched
/// case-insensitively and the first occurrence wins.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method as received (`POST`, …).
    pub method: &'a str,
    /// The raw, still percent-encoded path (`/webhooks/GUID/…`).
    pub path: &'a str,
    /// The raw query string without `?`, if the URL had one.
    pub query: Option<&'a str>,
    /// Header names and values as received.
    pub headers: &'a [(String, Vec<u8>)],
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
    /// The server-wide public base URL (`https://hooks.example.com`), used
    /// by schemes that sign the URL when the listener sets none.
    pub public_base_url: Option<&'a str>,
}

impl<'a> RequestParts<'a> {
    /// A request view with no query and no public base URL.
    pub fn new(
        method: &'a str,
        path: &'a str,
        headers: &'a [(String, Vec<u8>)],
        body: &'a [u8],
    ) -> Self {
        RequestParts {
            method,
            path,
            query: None,
            headers,
            body,
            public_base_url: None,
        }
    }

    /// Sets the raw query string (without `?`).
    pub fn with_query(mut self, query: Option<&'a str>) -> Self {
        self.query = query;
        self
    }

    /// Sets the server-wide public base URL.
    pub fn with_public_base_url(mut self, url: Option<&'a str>) -> Self {
        self.public_base_url = url;
        self
    }

    /// The raw value of a header (first occurrence, any case).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// A header as trimmed UTF-8; `Ok(None)` when absent or blank, an error
    /// when it is not UTF-8.
    pub(crate) fn header_str(&self, name: &str) -> Result<Option<&'a str>, VerifyError> {
        match self.header(name) {
            None => Ok(None),
            Some(raw) => {
                let text = std::str::from_utf8(raw)
                    .map_err(|_| VerifyError::MalformedHeader(name.to_string()))?
                    .trim();
                Ok((!text.is_empty()).then_some(text))
            }
        }
    }

    /// A header that must be present.
    pub(crate) fn required_header(&self, name: &str) -> Result<&'a str, VerifyError> {
        self.header_str(name)?
            .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    pub(crate) fn media_type(&self) -> String {
        let raw = self.header("content-type").unwrap_or_default();
        let text = String::from_utf8_lossy(raw);
        text.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}
