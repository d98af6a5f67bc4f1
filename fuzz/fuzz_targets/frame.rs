//! Fuzzes `wardpage_proto::fuzzing::frame` (see its doc for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wardpage_proto::fuzzing::frame(data));
