#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lonceng_client::fuzzing::retry_after(data));
