//! Functions (scripting.md §8).

pub mod arrays;
pub mod core;
pub mod dates;
pub mod dicts;
pub mod misc;
pub mod vobject;
