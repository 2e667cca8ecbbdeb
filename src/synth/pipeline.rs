//! Parallel, ordered generation of one table's rows.
//!
//! The row range is cut into fixed-size chunks; worker `w` of `n` makes
//! chunks `w, w + n, w + 2n, ...` (rows and, when the sink wants bytes,
//! their encoding) and hands them over a bounded channel of its own. The
//! consumer takes chunk `k` from worker `k % n`, so chunks arrive in order
//! without a reorder buffer, and at most `n * DEPTH` chunks are ever in
//! memory. Chunk boundaries depend only on row numbers, so the bytes are
//! the same whatever the thread count.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::batch::RowBatch;
use super::encode::{encode_text, pg_binary_rows, row_by_row, Encoding};
use super::gen::Generator;

/// Rows per chunk: a multiple of the `INSERT` batch, big enough that the
/// channel hop is noise, small enough to keep the memory flat.
const CHUNK_ROWS: u64 = 8_000;
const DEPTH: usize = 4;

/// One chunk of consecutive rows.
#[derive(Debug)]
pub struct Chunk {
    /// The rows: their cells, or only their range when `bytes` holds them.
    pub batch: RowBatch,
    /// The rows in the requested [`Encoding`]. With an encoding, `batch`
    /// holds only the row range (its cells stay with the generator thread).
    pub bytes: Vec<u8>,
    /// Where `bytes` goes back to when the sink is done with the chunk.
    spare: Option<Arc<Spare>>,
}

/// Encoding buffers handed back by the sink for the generator threads to
/// fill again: a chunk's bytes are hundreds of kilobytes, and a fresh
/// buffer per chunk is fresh pages per chunk, each zeroed by the kernel on
/// first touch (a tenth of a run's CPU, measured). At most [`Spare::KEEP`].
#[derive(Debug, Default)]
struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    /// Enough for every chunk in flight with up to 4 threads: `DEPTH` queued
    /// per thread, one being made per thread, one being written. With more
    /// threads, the buffers beyond it are freed as before.
    const KEEP: usize = 4 * (DEPTH + 2);

    fn take(&self) -> Vec<u8> {
        self.0.lock().ok().and_then(|mut v| v.pop()).unwrap_or_default()
    }

    fn give(&self, mut b: Vec<u8>) {
        if let Ok(mut v) = self.0.lock() {
            if v.len() < Self::KEEP && b.capacity() > 0 {
                b.clear();
                v.push(b);
            }
        }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(spare) = self.spare.take() {
            spare.give(std::mem::take(&mut self.bytes));
        }
    }
}

/// The chunks of one table's row range, in order.
pub(crate) struct ChunkStream {
    receivers: Vec<Receiver<Chunk>>,
    next: usize,
    total: usize,
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl ChunkStream {
    /// Start `threads` workers making rows `rows` of table `table`.
    pub(crate) fn start(
        gen: Arc<Generator>,
        table: usize,
        rows: Range<u64>,
        threads: usize,
        enc: Encoding,
    ) -> ChunkStream {
        let threads = threads.max(1);
        let total = (rows.end.saturating_sub(rows.start)).div_ceil(CHUNK_ROWS) as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let spare = Arc::new(Spare::default());
        let mut receivers = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for w in 0..threads.min(total.max(1)) {
            let (tx, rx) = sync_channel::<Chunk>(DEPTH);
            receivers.push(rx);
            let gen = gen.clone();
            let stop = stop.clone();
            let spare = spare.clone();
            let rows = rows.clone();
            let n = threads.min(total.max(1));
            let spawned = std::thread::Builder::new().name(format!("synth-{w}")).spawn(move || {
                let mut k = w;
                // When the sink takes bytes, the cells stay here and their
                // buffers are reused chunk after chunk.
                let mut reused = RowBatch::default();
                while k < total && !stop.load(Ordering::Relaxed) {
                    let first = rows.start + k as u64 * CHUNK_ROWS;
                    let count = CHUNK_ROWS.min(rows.end - first) as usize;
                    let chunk = if enc == Encoding::None {
                        let mut batch = RowBatch::default();
                        gen.fill(table, first, count, &mut batch);
                        Chunk {
                            batch,
                            bytes: Vec::new(),
                            spare: None,
                        }
                    } else {
                        let bytes = encode_chunk(&gen, table, first, count, enc, &mut reused, spare.take());
                        let batch = RowBatch {
                            first_row: first,
                            rows: count,
                            ncols: reused.ncols,
                            ..RowBatch::default()
                        };
                        Chunk {
                            batch,
                            bytes,
                            spare: Some(spare.clone()),
                        }
                    };
                    if tx.send(chunk).is_err() {
                        return;
                    }
                    k += n;
                }
            });
            match spawned {
                Ok(h) => handles.push(h),
                // Without a thread the chunks it owns never come; the
                // consumer sees the stream end early and reports it.
                Err(e) => tracing::error!("cannot start a generator thread: {e}"),
            }
        }
        ChunkStream {
            receivers,
            next: 0,
            total,
            stop,
            handles,
        }
    }
}

/// Rows at a time made and encoded within a chunk: their cells and text
/// stay in the core's first-level cache between the two (made whole, a
/// chunk's cells and text are over a megabyte, written out and read back).
const ROWS_AT_A_TIME: usize = 64;

/// Rows `first..first + count` of `table`, encoded onto `buf` (empty, with
/// its pages kept from an earlier chunk). `cells` holds the rows in between.
fn encode_chunk(
    gen: &Generator,
    table: usize,
    first: u64,
    count: usize,
    enc: Encoding,
    cells: &mut RowBatch,
    buf: Vec<u8>,
) -> Vec<u8> {
    let t = &gen.schema().tables[table];
    let step = if row_by_row(enc) { ROWS_AT_A_TIME } else { count.max(1) };
    let parts = (0..count)
        .step_by(step)
        .map(|r| (first + r as u64, step.min(count - r)));
    if enc == Encoding::PgBinary {
        let mut out = buf;
        for (row, n) in parts {
            gen.fill(table, row, n, cells);
            pg_binary_rows(t, cells, &mut out);
        }
        return out;
    }
    let mut text = String::from_utf8(buf).unwrap_or_default();
    for (row, n) in parts {
        gen.fill(table, row, n, cells);
        encode_text(enc, t, cells, &mut text);
    }
    text.into_bytes()
}

impl Iterator for ChunkStream {
    type Item = Chunk;
    fn next(&mut self) -> Option<Chunk> {
        if self.next >= self.total || self.receivers.is_empty() {
            return None;
        }
        let rx = &self.receivers[self.next % self.receivers.len()];
        let c = rx.recv().ok()?;
        self.next += 1;
        Some(c)
    }
}

impl Drop for ChunkStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receivers unblocks workers waiting to send.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
