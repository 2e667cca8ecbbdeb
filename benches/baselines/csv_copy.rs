//! The ceiling for `loadline scrub` throughput (BENCHMARKS.md): a plain
//! read-and-write copy of a CSV file with the csv crate, one thread, every
//! record parsed and written back, nothing transformed.
//!
//! cargo run --release -p loadline-baselines --bin csv_copy -- IN.csv OUT.csv

// A benchmark tool: its result line goes to stderr, beside the output it measures.
#![allow(clippy::print_stderr)]

use std::fs::File;
use std::io::{BufReader, BufWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        return Err("usage: csv_copy IN.csv OUT.csv".into());
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(BufReader::with_capacity(1 << 20, File::open(&input)?));
    let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, File::create(&output)?));
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    while reader.read_byte_record(&mut record)? {
        writer.write_byte_record(&record)?;
        rows += 1;
    }
    writer.flush()?;
    eprintln!("copied {rows} records");
    Ok(())
}
