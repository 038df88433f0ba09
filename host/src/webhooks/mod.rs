//! Webhook listeners: request → dictionary, event KATA, result → response.
