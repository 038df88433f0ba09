//! The admin API under /api.
