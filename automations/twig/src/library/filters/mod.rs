//! Filters (scripting.md §7).

pub mod arrays;
pub mod dates;
pub mod encoding;
pub mod markdown;
pub mod media;
pub mod numbers;
pub mod parsing;
pub mod strings;
pub mod text;
