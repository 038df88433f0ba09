//! The automation interpreter.
