//! Host bindings of the WIT world `automation` (guest-sdk/wit, frozen).
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../guest-sdk/wit",
    world: "automation",
    imports: { default: async },
    exports: { default: async },
});
