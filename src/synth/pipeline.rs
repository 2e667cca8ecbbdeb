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
use std::sync::Arc;
use std::thread::JoinHandle;

use super::batch::RowBatch;
use super::encode::{encode, Encoding};
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
        let mut receivers = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for w in 0..threads.min(total.max(1)) {
            let (tx, rx) = sync_channel::<Chunk>(DEPTH);
            receivers.push(rx);
            let gen = gen.clone();
            let stop = stop.clone();
            let rows = rows.clone();
            let n = threads.min(total.max(1));
            let spawned = std::thread::Builder::new().name(format!("synth-{w}")).spawn(move || {
                let t = &gen.schema().tables[table];
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
                        }
                    } else {
                        gen.fill(table, first, count, &mut reused);
                        let mut bytes = Vec::new();
                        encode(enc, t, &reused, &mut bytes);
                        let batch = RowBatch {
                            first_row: first,
                            rows: count,
                            ncols: reused.ncols,
                            ..RowBatch::default()
                        };
                        Chunk { batch, bytes }
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
