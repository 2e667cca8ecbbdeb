//! `loadline target --db sqlite:FILE`: the sample shop served from a
//! database `loadline synth` seeded, so a request for a row the seeder did
//! not write gets a 404.
//!
//! Built to outrun the load generator: each server thread reads through its
//! own read-only connection (a thread-local, opened on first use) with cached
//! prepared statements; the file is put in WAL mode so those reads never wait
//! for the writer; and orders go to one writer thread over a channel, which
//! inserts them in batches (every [`BATCH_ROWS`] rows or [`BATCH_WAIT`]), so
//! a write never holds a request up. A lookup by primary key takes
//! microseconds, so it runs on the server thread rather than a blocking pool.
//!
//! The database must hold what fixtures/shop.schema.yaml makes:
//! `tenants(id)`, `users(id, tenant_id)`, `products(id, sku, price_cents)`
//! and `orders(id, user_id, product_id, qty, status, placed_at)`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

/// Orders inserted per transaction at most.
pub(crate) const BATCH_ROWS: usize = 512;
/// Longest an accepted order waits for its transaction.
pub(crate) const BATCH_WAIT: Duration = Duration::from_millis(20);

/// The tables and columns the target reads and writes.
const REQUIRED: [(&str, &[&str]); 4] = [
    ("tenants", &["id"]),
    ("users", &["id", "tenant_id"]),
    ("products", &["id", "sku", "price_cents"]),
    ("orders", &["id", "user_id", "product_id", "qty", "status", "placed_at"]),
];

/// Why the database cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("--db sqlite:{}: {message}", .path.display())]
pub struct DbError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, and what to do.
    pub message: String,
}

/// A product row, as the JSON answer shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ProductRow {
    pub(crate) id: serde_json::Value,
    pub(crate) sku: serde_json::Value,
    pub(crate) price_cents: serde_json::Value,
}

/// An accepted order, on its way to the writer.
#[derive(Debug)]
struct Order {
    id: i64,
    user_id: i64,
    product_id: i64,
    qty: i64,
    at: i64,
}

/// Numbers each opened database, so a thread's cached connection is never
/// used for another target of the same process.
static NEXT_DB: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's read-only connections, by database number.
    static READERS: RefCell<Vec<(u64, Connection)>> = const { RefCell::new(Vec::new()) };
}

/// The seeded database of a running target.
#[derive(Debug)]
pub(crate) struct Db {
    path: PathBuf,
    number: u64,
    /// Each tenant's first user (lowest id): who an order is placed for.
    first_user: HashMap<String, i64>,
    next_order: AtomicU64,
    orders: Sender<Order>,
    closing: Arc<AtomicBool>,
    write_errors: Arc<AtomicU64>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

fn text_of(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t,
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
    }
}

fn json_of(v: Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
        Value::Text(t) => t.into(),
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned().into(),
    }
}

impl Db {
    /// Open the seeded file: it must exist and hold the shop's tables; it is
    /// switched to WAL mode and the order writer is started.
    pub(crate) fn open(path: &Path) -> Result<Db, DbError> {
        let err = |message: String| DbError {
            path: path.to_path_buf(),
            message,
        };
        if !path.is_file() {
            return Err(err(
                "no such file (seed one with `loadline synth fixtures/shop.schema.yaml --to sqlite:FILE`)".into(),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(format!("cannot open: {e}")))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| err(e.to_string()))?;
        check_tables(&conn).map_err(err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| err(format!("cannot switch to WAL mode: {e}")))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(err(format!("cannot switch to WAL mode (the journal stays `{mode}`)")));
        }
        let first_user = first_users(&conn).map_err(|e| err(format!("reading users: {e}")))?;
        let last: i64 = conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM orders", [], |r| r.get(0))
            .map_err(|e| err(format!("reading orders: {e}")))?;
        let (orders, rx) = channel();
        let closing = Arc::new(AtomicBool::new(false));
        let write_errors = Arc::new(AtomicU64::new(0));
        let writer = {
            let (closing, errors) = (Arc::clone(&closing), Arc::clone(&write_errors));
            std::thread::Builder::new()
                .name("loadline-target-orders".into())
                .spawn(move || write_orders(&conn, &rx, &closing, &errors))
                .map_err(|e| err(format!("cannot start the order writer: {e}")))?
        };
        Ok(Db {
            path: path.to_path_buf(),
            number: NEXT_DB.fetch_add(1, Ordering::Relaxed),
            first_user,
            next_order: AtomicU64::new(u64::try_from(last).unwrap_or(0) + 1),
            orders,
            closing,
            write_errors,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Run `f` with this thread's read-only connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        READERS.with_borrow_mut(|readers| {
            if let Some((_, c)) = readers.iter().find(|(n, _)| *n == self.number) {
                return f(c);
            }
            let c = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(Duration::from_secs(5))?;
            let out = f(&c);
            readers.push((self.number, c));
            out
        })
    }

    /// Whether the tenant exists.
    pub(crate) fn tenant(&self, tenant: &str) -> rusqlite::Result<bool> {
        self.read(|c| {
            c.prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")?
                .exists([tenant])
        })
    }

    /// The product with this id (an integer) or SKU (anything else).
    pub(crate) fn product(&self, key: &str) -> rusqlite::Result<Option<ProductRow>> {
        let sql = if key.parse::<i64>().is_ok() {
            "SELECT id, sku, price_cents FROM products WHERE id = ?1"
        } else {
            "SELECT id, sku, price_cents FROM products WHERE sku = ?1"
        };
        self.read(|c| {
            c.prepare_cached(sql)?
                .query_row([key], |r| {
                    Ok(ProductRow {
                        id: json_of(r.get(0)?),
                        sku: json_of(r.get(1)?),
                        price_cents: json_of(r.get(2)?),
                    })
                })
                .optional()
        })
    }

    /// The integer id of the product with this id or SKU.
    fn product_id(&self, key: &str) -> rusqlite::Result<Option<i64>> {
        let sql = if key.parse::<i64>().is_ok() {
            "SELECT id FROM products WHERE id = ?1"
        } else {
            "SELECT id FROM products WHERE sku = ?1"
        };
        self.read(|c| c.prepare_cached(sql)?.query_row([key], |r| r.get(0)).optional())
    }

    /// Accept an order of `qty` of product `product` (an id or SKU) for the
    /// tenant's first user: its new id, or why it cannot be placed. It is
    /// inserted by the writer within [`BATCH_WAIT`].
    pub(crate) fn place_order(&self, tenant: &str, product: &str, qty: i64) -> Result<u64, OrderRefused> {
        if !self.tenant(tenant).map_err(OrderRefused::Db)? {
            return Err(OrderRefused::NoTenant);
        }
        let Some(&user_id) = self.first_user.get(tenant) else {
            return Err(OrderRefused::NoUser);
        };
        let Some(product_id) = self.product_id(product).map_err(OrderRefused::Db)? else {
            return Err(OrderRefused::NoProduct);
        };
        let id = self.next_order.fetch_add(1, Ordering::Relaxed);
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let order = Order {
            id: id as i64,
            user_id,
            product_id,
            qty,
            at,
        };
        if self.orders.send(order).is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(id)
    }

    /// Orders accepted whose insert failed.
    pub(crate) fn write_errors(&self) -> u64 {
        self.write_errors.load(Ordering::Relaxed)
    }

    /// Insert the orders still queued and stop the writer (after the server
    /// has stopped, so no order arrives after).
    pub(crate) fn finish(&self) {
        self.closing.store(true, Ordering::Release);
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(w) = writer {
            if w.join().is_err() {
                tracing::warn!("sample target: the order writer panicked");
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Why an order was not placed.
#[derive(Debug)]
pub(crate) enum OrderRefused {
    /// The tenant is not in the database (404).
    NoTenant,
    /// The tenant has no user to place it for (422).
    NoUser,
    /// The product is not in the database (422).
    NoProduct,
    /// The database failed (500).
    Db(rusqlite::Error),
}

/// Every table and column the target needs, or a message naming all that
/// are missing.
fn check_tables(conn: &Connection) -> Result<(), String> {
    let mut missing = Vec::new();
    for (table, cols) in REQUIRED {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info(\"{table}\")"))
            .map_err(|e| e.to_string())?;
        let have: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .and_then(|rows| rows.collect())
            .map_err(|e| e.to_string())?;
        if have.is_empty() {
            missing.push(format!("table `{table}`"));
            continue;
        }
        for c in cols.iter().filter(|c| !have.iter().any(|h| h == *c)) {
            missing.push(format!("column `{table}.{c}`"));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "not a seeded shop database: missing {} (seed it with `loadline synth fixtures/shop.schema.yaml --to sqlite:FILE`)",
        missing.join(", ")
    ))
}

/// Each tenant's lowest user id.
fn first_users(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT tenant_id, MIN(id) FROM users GROUP BY tenant_id")?;
    let rows = stmt.query_map([], |r| Ok((text_of(r.get(0)?), r.get::<_, i64>(1)?)))?;
    rows.collect()
}

/// The writer thread: insert queued orders in batches until closed.
fn write_orders(conn: &Connection, rx: &Receiver<Order>, closing: &AtomicBool, errors: &AtomicU64) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut disconnected = false;
    loop {
        let deadline = Instant::now() + BATCH_WAIT;
        while batch.len() < BATCH_ROWS {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(o) => batch.push(o),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    disconnected = true;
                    break;
                }
            }
        }
        if !batch.is_empty() {
            if let Err(e) = insert(conn, &batch) {
                errors.fetch_add(batch.len() as u64, Ordering::Relaxed);
                tracing::warn!("sample target: {} orders not written: {e}", batch.len());
            }
            batch.clear();
        }
        if disconnected {
            return;
        }
        if closing.load(Ordering::Acquire) {
            // The server has stopped: take what is left, then end.
            batch.extend(rx.try_iter());
            if batch.is_empty() {
                return;
            }
        }
    }
}

fn insert(conn: &Connection, batch: &[Order]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO orders (id, user_id, product_id, qty, status, placed_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        )?;
        for o in batch {
            let at = jiff::Timestamp::from_second(o.at)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            stmt.execute(params![o.id, o.user_id, o.product_id, o.qty, at])?;
        }
    }
    tx.commit()
}
