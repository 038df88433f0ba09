//! Shared helpers: an owned request and the senders' signing algorithms.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use katabox_verify::{RequestParts, Secret, Secrets};

/// An owned request that lends out [`RequestParts`].
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub public_base_url: Option<String>,
}

impl Req {
    pub fn post(body: impl Into<Vec<u8>>) -> Self {
        Req {
            method: "POST".to_string(),
            path: "/webhooks/abc".to_string(),
            query: None,
            headers: Vec::new(),
            body: body.into(),
            public_base_url: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn replace(self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.without(name).header(name, value)
    }

    pub fn parts(&self) -> RequestParts<'_> {
        RequestParts::new(&self.method, &self.path, &self.headers, &self.body)
            .with_query(self.query.as_deref())
            .with_public_base_url(self.public_base_url.as_deref())
    }
}

pub fn secrets(pairs: &[(&str, &str)]) -> Secrets {
    let mut s = Secrets::new();
    for (name, value) in pairs {
        s.insert(name, Secret::new(value.as_bytes()))
            .expect("valid secret");
    }
    s
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn hmac_sha512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}
