#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipline_fuzz::exotel_query(data));
