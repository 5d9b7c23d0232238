//! Integration tests of the script VM (one binary to save link time).

mod script_tests;
