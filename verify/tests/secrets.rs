//! Secrets: loading from files and the environment, and redaction.

use katabox_verify::{Secret, SecretLoadError, Secrets};
use std::ffi::OsString;

const VALUE: &str = "hunter2-super-secret-value";

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

#[test]
fn debug_and_display_never_show_the_value() {
    let secret = Secret::new(VALUE);
    assert!(!format!("{secret:?}").contains(VALUE));
    assert!(!format!("{secret}").contains(VALUE));
    assert!(!format!("{secret:#?}").contains("hunter2"));
    let mut secrets = Secrets::new();
    secrets.insert("github", secret.clone()).expect("valid");
    let shown = format!("{secrets:?}");
    assert!(shown.contains("github"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(
        secrets.get("GitHub").map(Secret::expose),
        Some(VALUE.as_bytes())
    );
}

#[test]
fn environment_variables_define_secrets() {
    let (secrets, warnings) = Secrets::from_env(env(&[
        ("KATABOX_SECRET_GITHUB_HOOK", VALUE),
        ("PATH", "/usr/bin"),
        ("KATABOX_SECRET_", "nameless"),
        ("KATABOX_SECRET_BAD NAME", "x"),
    ]));
    assert_eq!(secrets.names().collect::<Vec<_>>(), ["github_hook"]);
    assert_eq!(
        secrets.get("github_hook").and_then(Secret::expose_str),
        Some(VALUE)
    );
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().all(|w| !w.contains("nameless")),
        "{warnings:?}"
    );
}

#[test]
fn toml_and_json_files_then_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("secrets.toml"),
        format!("github = \"{VALUE}\"\nstripe = \"whsec_1\"\n"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("secrets.json"),
        r#"{"slack": "slack-signing", "stripe": "whsec_2"}"#,
    )
    .expect("write");
    set_mode(&dir.path().join("secrets.toml"), 0o600);
    set_mode(&dir.path().join("secrets.json"), 0o600);
    let loaded =
        Secrets::load(dir.path(), env(&[("KATABOX_SECRET_SLACK", "from-env")])).expect("loads");
    let s = &loaded.secrets;
    assert_eq!(s.names().collect::<Vec<_>>(), ["github", "slack", "stripe"]);
    assert_eq!(s.get("github").and_then(Secret::expose_str), Some(VALUE));
    assert_eq!(
        s.get("stripe").and_then(Secret::expose_str),
        Some("whsec_2")
    );
    assert_eq!(
        s.get("slack").and_then(Secret::expose_str),
        Some("from-env")
    );
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| !w.contains("whsec") && !w.contains("from-env"))
    );
}

#[test]
fn no_files_no_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = Secrets::load(dir.path(), env(&[])).expect("loads");
    assert!(loaded.secrets.is_empty());
    assert!(loaded.warnings.is_empty());
}

#[cfg(unix)]
#[test]
fn a_file_others_can_read_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.toml");
    std::fs::write(&path, "a = \"b\"\n").expect("write");
    set_mode(&path, 0o644);
    let loaded = Secrets::load(dir.path(), env(&[])).expect("loads");
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("0644"), "{:?}", loaded.warnings);
    set_mode(&path, 0o600);
    assert!(
        Secrets::load(dir.path(), env(&[]))
            .expect("loads")
            .warnings
            .is_empty()
    );
}

#[test]
fn errors_never_quote_values() {
    // A syntax error on line 2, right after a value.
    let err = Secrets::from_toml_str(
        &format!("a = \"{VALUE}\"\nb = \"{VALUE} oops\n"),
        "secrets.toml",
    )
    .expect_err("bad toml");
    let text = err.to_string();
    assert!(
        matches!(err, SecretLoadError::Syntax { line: 2, .. }),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    let err = Secrets::from_json_str(
        &format!("{{\"a\": \"{VALUE}\", \"b\": [\"{VALUE}\"]}}"),
        "secrets.json",
    )
    .expect_err("not a string");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(matches!(err, SecretLoadError::NotAString { ref name, .. } if name == "b"));

    let err = Secrets::from_json_str(&format!("{{\"a\": \"{VALUE}\" \"b\"}}"), "secrets.json")
        .expect_err("bad json");
    assert!(!err.to_string().contains("hunter2"), "{err}");

    let err =
        Secrets::from_toml_str("[table]\nx = \"hunter2\"\n", "secrets.toml").expect_err("nested");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn names_are_checked_and_values_must_not_be_empty() {
    let mut s = Secrets::new();
    assert!(matches!(
        s.insert("a b", Secret::new("x")),
        Err(SecretLoadError::InvalidName(_))
    ));
    assert!(matches!(
        s.insert(&"n".repeat(65), Secret::new("x")),
        Err(SecretLoadError::InvalidName(_))
    ));
    assert!(matches!(
        s.insert("ok", Secret::new("")),
        Err(SecretLoadError::Empty(_))
    ));
    assert_eq!(s.insert("ok.name-1", Secret::new("x")).ok(), Some(false));
    assert_eq!(s.insert("OK.NAME-1", Secret::new("y")).ok(), Some(true));
    assert_eq!(s.len(), 1);
}

fn set_mode(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
