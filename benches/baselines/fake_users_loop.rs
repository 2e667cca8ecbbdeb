//! The baseline `loadline synth` is measured against (BENCHMARKS.md): a
//! straightforward fake-crate loop writing the fixture's `users` columns
//! with the csv crate, one `fake()` per cell, on one thread, the way a
//! person would write it by hand. It does less than synth does: its emails
//! are not unique and its signup times do not follow the tenant's creation.
//!
//! usage: cargo run --release -p loadline-baselines --bin fake_users_loop -- ROWS OUT.csv [TENANTS]

use std::io::BufWriter;

use chrono::{TimeZone, Utc};
use fake::faker::chrono::en::DateTimeBetween;
use fake::faker::internet::en::SafeEmail;
use fake::faker::name::en::Name;
use fake::faker::phone_number::en::PhoneNumber;
use fake::Fake;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let out = args.get(2).map(String::as_str).unwrap_or("users.csv");
    let tenants: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(25_000);
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?));
    let rng = &mut rand::rngs::StdRng::seed_from_u64(7);
    let zipf = Zipf::new(tenants as f64, 1.1)?;
    let from = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).single().ok_or("date")?;
    let to = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().ok_or("date")?;
    w.write_record(["id", "tenant_id", "email", "name", "phone", "signup_at"])?;
    for id in 1..=rows {
        let tenant = format!("t-{:05}", zipf.sample(rng) as u64);
        let email: String = SafeEmail().fake_with_rng(rng);
        let name: String = Name().fake_with_rng(rng);
        let phone: String = if rng.random_bool(0.2) {
            String::new()
        } else {
            PhoneNumber().fake_with_rng(rng)
        };
        let signup: chrono::DateTime<Utc> = DateTimeBetween(from, to).fake_with_rng(rng);
        let signup = signup.format("%Y-%m-%d %H:%M:%S").to_string();
        w.write_record([id.to_string(), tenant, email, name, phone, signup])?;
    }
    w.flush()?;
    Ok(())
}
