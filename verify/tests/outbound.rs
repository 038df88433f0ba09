//! Secret injection into outgoing requests, and redaction of logs.

mod common;

use common::{b64, secrets};
use katabox_verify::outbound::{Account, Accounts, AuthError};

const TOKEN: &str = "ghp_0123456789abcdefSECRET";

fn accounts() -> Accounts {
    Accounts::from_toml_str(
        "[github_api]\ntype = \"bearer\"\nsecret = \"github_token\"\n\n\
         [legacy]\ntype = \"basic\"\nusername = \"api\"\nsecret = \"legacy_password\"\n\n\
         [partner]\ntype = \"header\"\nheader = \"X-Api-Key\"\nsecret = \"partner_key\"\n\n\
         [dangling]\ntype = \"bearer\"\nsecret = \"not_configured\"\n",
    )
    .expect("valid accounts")
}

#[test]
fn each_account_type_builds_its_header() {
    let s = secrets(&[
        ("github_token", TOKEN),
        ("legacy_password", "pa55w0rd!"),
        ("partner_key", "pk-123456"),
    ]);
    let a = accounts();
    let (name, value) = a
        .authorization("cerb:connected_account:github_api", &s)
        .expect("bearer");
    assert_eq!(
        (name.as_str(), value.expose()),
        ("authorization", format!("Bearer {TOKEN}").as_bytes())
    );
    let (name, value) = a
        .authorization("cerb:connected_account:legacy", &s)
        .expect("basic");
    assert_eq!(name, "authorization");
    assert_eq!(
        value.expose_str(),
        Some(format!("Basic {}", b64(b"api:pa55w0rd!")).as_str())
    );
    let (name, value) = a
        .authorization("cerb:connected_account:partner", &s)
        .expect("header");
    assert_eq!(
        (name.as_str(), value.expose_str()),
        ("x-api-key", Some("pk-123456"))
    );
    // The value stays redacted when printed.
    assert!(!format!("{value:?} {value}").contains("pk-123456"));
}

#[test]
fn failures_use_cerbs_texts() {
    let s = secrets(&[("github_token", "line\r\nInjected: yes")]);
    let a = accounts();
    assert_eq!(
        a.authorization("cerb:connected_account:nope", &s)
            .map(|_| ()),
        Err(AuthError::UnknownAccount(
            "cerb:connected_account:nope".into()
        ))
    );
    assert_eq!(
        a.authorization("github_api", &s)
            .map_err(|e| e.to_string())
            .map(|_| ()),
        Err("Unknown account for authentication (github_api)".to_string())
    );
    assert_eq!(
        a.authorization("cerb:connected_account:dangling", &s)
            .map_err(|e| e.to_string())
            .map(|_| ()),
        Err("Failed to authenticate with account (cerb:connected_account:dangling)".to_string())
    );
    // A secret with a line break cannot smuggle a header in.
    assert!(matches!(
        a.authorization("cerb:connected_account:github_api", &s),
        Err(AuthError::Failed(_))
    ));
}

#[test]
fn accounts_file_errors_do_not_quote_it() {
    let err = Accounts::from_toml_str("[x]\ntype = \"oauth\"\nsecret = \"hunter2\"\n")
        .expect_err("unknown type");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let mut a = Accounts::default();
    a.insert(
        "k",
        Account::Header {
            header: "Bad Header".into(),
            secret: "partner_key".into(),
            hosts: Vec::new(),
        },
    );
    let s = secrets(&[("partner_key", "pk-123456")]);
    assert!(matches!(
        a.authorization("cerb:connected_account:k", &s),
        Err(AuthError::Failed(_))
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(Accounts::load(dir.path()), Ok(Accounts::default()));
}

#[test]
fn redact_scrubs_every_secret_value() {
    let s = secrets(&[
        ("github_token", TOKEN),
        ("short", "abc"),
        ("partner_key", "pk-123456"),
    ]);
    let line = format!("GET /repos with Bearer {TOKEN} and key pk-123456, abc stays");
    let clean = s.redact(&line);
    assert_eq!(
        clean,
        "GET /repos with Bearer <redacted:github_token> and key <redacted:partner_key>, abc stays"
    );
    assert!(matches!(
        s.redact("nothing here"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn an_account_bound_to_hosts_allows_only_those_hosts() {
    let a = Accounts::from_toml_str(
        "[p]\ntype = \"header\"\nheader = \"X-Api-Key\"\nsecret = \"k\"\nhosts = [\"api.partner.example\", \"*.cdn.example\"]\n[free]\ntype = \"bearer\"\nsecret = \"k\"\n",
    )
    .expect("accounts");
    let p = a.by_reference("cerb:connected_account:p").expect("p");
    assert!(p.allows_host("api.partner.example"));
    assert!(p.allows_host("API.Partner.Example."));
    assert!(p.allows_host("eu.cdn.example"));
    assert!(!p.allows_host("cdn.example"), "*.domain means a subdomain");
    assert!(!p.allows_host("evil.example"));
    assert!(!p.allows_host("api.partner.example.evil.example"));
    assert!(!p.allows_host("xcdn.example"));
    let free = a.by_reference("cerb:connected_account:free").expect("free");
    assert!(free.allows_host("anything.example"), "unbound: any host");
    assert!(a.by_reference("free").is_none(), "needs the prefix");
}
