//! The napi layer: the only module that knows about JavaScript.
mod emulator;
