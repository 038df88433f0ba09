//! The axum server: routes, limits, graceful shutdown.
