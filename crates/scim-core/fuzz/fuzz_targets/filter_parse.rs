//! Fuzz target: the filter parser never panics, and whatever it accepts prints to a
//! canonical form that parses back to the same AST (and prints identically).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::filter::MAX_FILTER_LEN;
use scim_core::filter::parse_filter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_filter(text) {
        Ok(filter) => {
            let printed = filter.to_string();
            // The canonical form can be longer than the input (Entra's `a[f].b op v` is
            // expanded to `a[f and b op v]`), beyond the length the parser accepts.
            if printed.len() > MAX_FILTER_LEN {
                return;
            }
            let reparsed = parse_filter(&printed)
                .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?} fails: {e}"));
            assert_eq!(reparsed, filter, "{text:?} printed as {printed:?}");
            assert_eq!(reparsed.to_string(), printed);
        }
        Err(e) => {
            assert_eq!(e.scim_type(), Some(scim_core::ScimType::InvalidFilter));
        }
    }
});
