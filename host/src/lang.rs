//! The host's language services: KATA evaluation and template rendering
//! with one shared scripting engine (used by the CLI, policies and event KATA).
