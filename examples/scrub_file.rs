//! Scrub a database dump from Rust, then verify the result: read the rules
//! `fixtures/shop.scrub.yaml`, scrub the two CSV files of `fixtures/dump`
//! into a temporary directory, and check the output with `scrub verify`
//! (no original value left, nothing that still looks like personal data,
//! row counts, joins and unique columns kept).
//!
//! ```text
//! LOADLINE_SCRUB_KEY=$(openssl rand -hex 32) cargo run --example scrub_file
//! cargo run --example scrub_file      # without a key: a throwaway random one
//! ```
//!
//! The key makes pseudonyms stable (the same input, the same output across
//! tables and runs); the rules name where it lives (`${env:...}` or
//! `${file:...}`), never the key itself.

use std::path::{Path, PathBuf};

use loadline::printer::Printer;
use loadline::scrub::{self, rules, verify, Rules};
use rand::RngExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let printer = Printer::new(false);
    let scratch = tempfile::tempdir()?;
    let rules = load_rules(&root.join("fixtures/shop.scrub.yaml"), scratch.path())?;

    let input = root.join("fixtures/dump");
    let output = scratch.path().join("clean");
    let rejects = scratch.path().join("rejects");
    let report = scrub::scrub(
        &rules,
        &scrub::Options {
            input: input.clone(),
            output: output.clone(),
            rejects: Some(rejects.clone()),
            max_rejects: 0,
            threads: 2,
            stop: Default::default(),
        },
    )?;
    for f in &report.files {
        printer.out(format!(
            "scrubbed {:<8} {:>5} rows in, {:>5} out, {} rejected",
            f.table, f.rows_in, f.rows_out, f.rejected
        ));
    }

    let checked = verify::verify(
        &rules,
        &verify::Options {
            original: input,
            scrubbed: output,
            rejects: Some(rejects),
        },
    )?;
    printer.out("");
    for line in checked.summary(10) {
        printer.out(line);
    }
    if !checked.passed() {
        return Err("verify failed".into());
    }
    Ok(())
}

/// The rules with their key from `LOADLINE_SCRUB_KEY`, or, when it is not set, with a
/// random key written to a file in `scratch` (a demo: pseudonyms then differ on every run).
fn load_rules(path: &Path, scratch: &Path) -> Result<Rules, Box<dyn std::error::Error>> {
    if std::env::var_os("LOADLINE_SCRUB_KEY").is_some() {
        return Ok(rules::load(path)?);
    }
    let key: String = (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rand::rng().random_range(0..16)]))
        .collect();
    let key_file = scratch.join("demo.key");
    std::fs::write(&key_file, key)?;
    let text = std::fs::read_to_string(path)?.replace(
        "${env:LOADLINE_SCRUB_KEY}",
        &format!("${{file:{}}}", key_file.display()),
    );
    Ok(rules::from_str(&text, path)?)
}
