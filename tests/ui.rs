//! Compile-time diagnostics of `#[variable_scope]` and `model!` (trybuild).
//!
//! Bless with `TRYBUILD=overwrite cargo test --test ui`, then read the `.stderr` diff: each
//! error must sit under the offending tokens and say how to fix them.

use std::path::Path;

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
    t.pass("tests/ui-pass/*.rs");
    // The expansion-snapshot inputs must compile too (all but the deliberate `error.rs`).
    for topic in ["variable_scope", "model"] {
        let dir = Path::new("tests/expand").join(topic);
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .expect("tests/expand exists")
            .map(|e| e.expect("readable entry").path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".rs") && !name.ends_with(".expanded.rs") && name != "error.rs"
            })
            .collect();
        cases.sort();
        for case in cases {
            t.pass(case);
        }
    }
}
