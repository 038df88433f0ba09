//! katabox guest SDK.
