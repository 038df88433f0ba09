//! Limits that a hostile template cannot pass.

/// Rendering limits. Passing one is an error, never a hang or an abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps (nodes, filter calls, loop iterations...) per render.
    pub max_steps: u64,
    /// Bytes of output per render.
    pub max_output_bytes: usize,
    /// Nesting depth of expressions, blocks and calls.
    pub max_depth: usize,
    /// Iterations of one `for` loop (Cerb bails at 25,000).
    pub max_loop_iterations: usize,
    /// Bytes of one string built by repetition, padding, joining or concatenation.
    pub max_string_bytes: usize,
    /// Elements of one array built by `range`, `merge`, splitting...
    pub max_array_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 5_000_000,
            max_output_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_loop_iterations: 25_000,
            max_string_bytes: 16 * 1024 * 1024,
            max_array_len: 1_000_000,
        }
    }
}
