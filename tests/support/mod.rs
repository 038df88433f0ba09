//! Shared support for the end-to-end tests: vector loading, JSON comparison
//! with Cerb's rules, a raw HTTP/1.1 client and a real server process.

#![allow(dead_code)]

pub mod attack;
pub mod cases;
pub mod compare;
pub mod expected;
pub mod http;
pub mod postgres;
pub mod runner;
pub mod server;
