//! The embedded store (redb) behind a trait.
