//! Reading logs: plain files, gzip (by magic bytes, any number of members,
//! as `logrotate` and `cat a.gz b.gz` make them) and standard input, as
//! lines numbered from 1 per input.
//!
//! A plain file is split into byte ranges at line boundaries so threads can
//! parse them independently ([`Source::for_each_chunk`]); each chunk counts
//! its own lines, and the caller learns each chunk's line offset once all
//! are done ([`ChunkOutcome::line_offset`]), which turns the chunk's
//! relative line numbers into the file's ([`RejectCounts::merge`]). Gzip and
//! standard input cannot be split: one chunk.
//!
//! Memory is bounded whatever the input: a line longer than [`MAX_LINE`]
//! is skipped to its end without being buffered and reported as too long.
//!
//! [`RejectCounts::merge`]: super::RejectCounts::merge

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use super::Reject;

/// The longest line read; longer ones are rejected as too long.
pub const MAX_LINE: usize = 64 * 1024;

/// Read buffer per chunk.
const BUFFER: usize = 256 * 1024;

/// Chunks smaller than this are not worth a thread.
const MIN_CHUNK: u64 = 4 * 1024 * 1024;

/// At most this much is read ahead to find the first lines for detection.
const HEAD_BYTES: usize = 4 * 1024 * 1024;

/// An input that cannot be read (not a bad line: those are [`Reject`]s).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be opened.
    #[error("cannot open {}: {source}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Reading (or gunzipping) failed part way.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// The reason (a truncated or corrupt gzip stream, an I/O error).
        source: io::Error,
    },
}

type Stream = Box<dyn BufRead + Send>;

enum Kind {
    /// A plain, seekable file of this many bytes: split into chunks.
    Plain { len: u64 },
    /// Gzip or standard input: read once, from the start, in one chunk.
    /// `replay` holds what [`Source::head`] read ahead.
    Stream { reader: Stream, replay: Vec<u8> },
}

/// One log input: a file or standard input (`-`).
pub struct Source {
    path: PathBuf,
    kind: Kind,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn is_gzip(reader: &mut dyn BufRead) -> io::Result<bool> {
    // fill_buf may return a single byte from a pipe; that is not gzip then
    // only if it is not 0x1f, which a log line never starts with.
    let head = reader.fill_buf()?;
    Ok(head.len() >= 2 && head[..2] == [0x1f, 0x8b] || head == [0x1f])
}

impl Source {
    /// Open `path`, or standard input for `-`; gzip is recognised by its
    /// magic bytes, not by the name.
    pub fn open(path: impl AsRef<Path>) -> Result<Source, ReadError> {
        let path = path.as_ref().to_path_buf();
        let read_err = |source| ReadError::Read {
            path: path.clone(),
            source,
        };
        if path.as_os_str() == "-" {
            let mut stdin = BufReader::with_capacity(BUFFER, io::stdin());
            let reader: Stream = if is_gzip(&mut stdin).map_err(read_err)? {
                Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(stdin)))
            } else {
                Box::new(stdin)
            };
            return Ok(Source {
                path,
                kind: Kind::Stream {
                    reader,
                    replay: Vec::new(),
                },
            });
        }
        let file = File::open(&path).map_err(|source| ReadError::Open {
            path: path.clone(),
            source,
        })?;
        let len = file.metadata().map_err(read_err)?.len();
        let mut file = BufReader::with_capacity(BUFFER, file);
        let kind = if is_gzip(&mut file).map_err(read_err)? {
            Kind::Stream {
                reader: Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(file))),
                replay: Vec::new(),
            }
        } else {
            Kind::Plain { len }
        };
        Ok(Source { path, kind })
    }

    /// A log read once from `reader` (not split; gzip not recognised), named
    /// `path` in reports: what standard input is, for tests and fuzzing.
    pub fn from_reader(path: impl AsRef<Path>, reader: Box<dyn BufRead + Send>) -> Source {
        Source {
            path: path.as_ref().to_path_buf(),
            kind: Kind::Stream {
                reader,
                replay: Vec::new(),
            },
        }
    }

    /// The path as given (`-` for standard input), for reports.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Up to `n` of the first lines (for format detection), UTF-8 ones only;
    /// reading them does not consume them.
    pub fn head(&mut self, n: usize) -> Result<Vec<String>, ReadError> {
        let read_err = |source| ReadError::Read {
            path: self.path.clone(),
            source,
        };
        let bytes = match &mut self.kind {
            Kind::Plain { .. } => {
                let file = File::open(&self.path).map_err(read_err)?;
                let mut reader = BufReader::new(file);
                read_head(&mut reader, n).map_err(read_err)?
            }
            Kind::Stream { reader, replay } => {
                if replay.is_empty() {
                    *replay = read_head(reader, n).map_err(read_err)?;
                }
                replay.clone()
            }
        };
        Ok(bytes
            .split(|&b| b == b'\n')
            .take(n)
            .filter_map(|l| std::str::from_utf8(l.strip_suffix(b"\r").unwrap_or(l)).ok())
            .map(str::to_owned)
            .collect())
    }

    /// Split into up to `k` chunks at line boundaries (one for gzip and
    /// standard input, and for files too small to be worth it).
    pub fn chunks(self, k: usize) -> Result<Vec<Chunk>, ReadError> {
        let path = self.path;
        match self.kind {
            Kind::Stream { reader, replay } => Ok(vec![Chunk {
                path,
                reader: Box::new(Cursor::new(replay).chain(reader)),
                lines: 0,
            }]),
            Kind::Plain { len } => {
                let read_err = |source| ReadError::Read {
                    path: path.clone(),
                    source,
                };
                let k = k.clamp(1, (len / MIN_CHUNK).max(1) as usize);
                let mut bounds = vec![0];
                for i in 1..k {
                    let at = next_line_start(&path, len * i as u64 / k as u64).map_err(read_err)?;
                    if at > *bounds.last().unwrap_or(&0) && at < len {
                        bounds.push(at);
                    }
                }
                bounds.push(len);
                bounds
                    .windows(2)
                    .map(|w| {
                        let mut file = File::open(&path).map_err(read_err)?;
                        file.seek(SeekFrom::Start(w[0])).map_err(read_err)?;
                        Ok(Chunk {
                            path: path.clone(),
                            reader: Box::new(BufReader::with_capacity(BUFFER, file.take(w[1] - w[0]))),
                            lines: 0,
                        })
                    })
                    .collect()
            }
        }
    }

    /// Run `f` on up to `k` chunks, each on a thread of its own, and return
    /// the results in file order with each chunk's line offset.
    pub fn for_each_chunk<R, F>(self, k: usize, f: F) -> Result<Vec<ChunkOutcome<R>>, ReadError>
    where
        R: Send,
        F: Fn(&mut Chunk) -> Result<R, ReadError> + Sync,
    {
        let chunks = self.chunks(k)?;
        let results: Vec<Result<(u64, R), ReadError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|mut chunk| {
                    let f = &f;
                    scope.spawn(move || f(&mut chunk).map(|r| (chunk.lines, r)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        let mut offset = 0;
        let mut out = Vec::with_capacity(results.len());
        for result in results {
            let (lines, value) = result?;
            out.push(ChunkOutcome {
                line_offset: offset,
                lines,
                value,
            });
            offset += lines;
        }
        Ok(out)
    }
}

/// Read ahead until `n` lines or [`HEAD_BYTES`].
fn read_head(reader: &mut dyn BufRead, n: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut lines = 0;
    while lines < n && out.len() < HEAD_BYTES {
        let avail = reader.fill_buf()?;
        if avail.is_empty() {
            break;
        }
        let take = avail.len().min(HEAD_BYTES - out.len());
        lines += memchr::memchr_iter(b'\n', &avail[..take]).count();
        out.extend_from_slice(&avail[..take]);
        reader.consume(take);
    }
    Ok(out)
}

/// The offset just past the first `\n` at or after `from - 1` (so a chunk
/// boundary that falls on a line start stays there).
fn next_line_start(path: &Path, from: u64) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let start = from.saturating_sub(1);
    file.seek(SeekFrom::Start(start))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut pos = start;
    loop {
        let avail = reader.fill_buf()?;
        if avail.is_empty() {
            return Ok(pos);
        }
        if let Some(i) = memchr::memchr(b'\n', avail) {
            return Ok(pos + i as u64 + 1);
        }
        let n = avail.len();
        pos += n as u64;
        reader.consume(n);
    }
}

/// What one chunk's closure returned, with where its lines sit in the file.
#[derive(Debug)]
pub struct ChunkOutcome<R> {
    /// Lines before this chunk: add to the chunk's line numbers.
    pub line_offset: u64,
    /// Lines in this chunk.
    pub lines: u64,
    /// What the closure returned.
    pub value: R,
}

/// A run of whole lines of one input.
pub struct Chunk {
    path: PathBuf,
    reader: Stream,
    lines: u64,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("path", &self.path)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Chunk {
    /// Call `f` with each line's number (1-based within the chunk) and the
    /// line without its `\n` or `\r\n`, or why it cannot be read (not
    /// UTF-8, too long). Empty lines are counted but not passed on.
    /// Returns the number of lines.
    pub fn for_each_line(&mut self, mut f: impl FnMut(u64, Result<&str, Reject>)) -> Result<u64, ReadError> {
        let mut buf: Vec<u8> = Vec::new();
        let mut too_long = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(ReadError::Read {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            if avail.is_empty() {
                if too_long || !buf.is_empty() {
                    self.lines += 1;
                    emit(self.lines, &buf, too_long, &mut f);
                }
                return Ok(self.lines);
            }
            let Some(i) = memchr::memchr(b'\n', avail) else {
                let n = avail.len();
                if !too_long {
                    too_long = buf.len() + n > MAX_LINE + 1;
                    if too_long {
                        buf = Vec::new();
                    } else {
                        buf.extend_from_slice(avail);
                    }
                }
                self.reader.consume(n);
                continue;
            };
            self.lines += 1;
            if buf.is_empty() && !too_long {
                // The common case: the whole line is in the buffer, no copy.
                emit(self.lines, &avail[..i], false, &mut f);
            } else {
                too_long = too_long || buf.len() + i > MAX_LINE + 1;
                if !too_long {
                    buf.extend_from_slice(&avail[..i]);
                }
                emit(self.lines, &buf, too_long, &mut f);
                buf.clear();
                too_long = false;
            }
            self.reader.consume(i + 1);
        }
    }
}

fn emit(number: u64, line: &[u8], too_long: bool, f: &mut impl FnMut(u64, Result<&str, Reject>)) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if too_long || line.len() > MAX_LINE {
        return f(number, Err(Reject::LineTooLong));
    }
    if line.is_empty() {
        return;
    }
    match std::str::from_utf8(line) {
        Ok(s) => f(number, Ok(s)),
        Err(_) => f(number, Err(Reject::NotUtf8)),
    }
}
