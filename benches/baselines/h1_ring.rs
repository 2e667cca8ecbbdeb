//! What io_uring could save an HTTP/1.1 load generator on this kernel: a
//! minimal keep-alive client, closed model (one request in flight per
//! connection, no think time), the same on tokio's epoll reactor and on
//! tokio-uring's io_uring driver, so the two differ only in how they reach
//! the kernel. Neither has loadline's profile logic (a fixed `GET /`, no
//! histograms): the ratio is an upper bound of what io_uring would give the
//! engine. BENCHMARKS.md "HTTP/1.1 and io_uring" has the method and numbers.
//!
//!   h1_ring --io epoll|uring --addr 127.0.0.1:18080 --conns 64 --secs 10
//!
//! Prints `requests=N` for the caller to divide by the process's CPU time.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
enum Io {
    Epoll,
    Uring,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    io: Io,
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, default_value_t = 64)]
    conns: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: h1_ring\r\n\r\n";

/// The length of the whole response at the start of `buf`, once it is all there.
fn response_len(buf: &[u8]) -> Result<Option<usize>> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut resp = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = resp.parse(buf)? else {
        return Ok(None);
    };
    let mut body = 0usize;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            body = std::str::from_utf8(h.value)?.trim().parse()?;
        }
    }
    Ok((buf.len() >= head + body).then_some(head + body))
}

async fn epoll_conn(addr: SocketAddr, end: Instant, done: Rc<Cell<u64>>) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; 4096];
    while Instant::now() < end {
        s.write_all(REQUEST).await?;
        let mut have = 0;
        loop {
            let n = s.read(&mut buf[have..]).await?;
            if n == 0 {
                bail!("closed");
            }
            have += n;
            if response_len(&buf[..have])?.is_some() {
                break;
            }
        }
        done.set(done.get() + 1);
    }
    Ok(())
}

async fn uring_conn(addr: SocketAddr, end: Instant, done: Rc<Cell<u64>>) -> Result<()> {
    let s = tokio_uring::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut req = REQUEST.to_vec();
    while Instant::now() < end {
        let (r, back) = s.write_all(req).await;
        r?;
        req = back;
        buf.clear();
        loop {
            let (n, back) = s.read(buf).await;
            buf = back;
            if n? == 0 {
                bail!("closed");
            }
            if response_len(&buf)?.is_some() {
                break;
            }
            if buf.len() == buf.capacity() {
                buf.reserve(4096);
            }
        }
        done.set(done.get() + 1);
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let end = Instant::now() + Duration::from_secs(args.secs);
    let done = Rc::new(Cell::new(0u64));
    let run = async {
        let mut tasks = Vec::new();
        for _ in 0..args.conns {
            let done = done.clone();
            tasks.push(match args.io {
                Io::Epoll => tokio::task::spawn_local(epoll_conn(args.addr, end, done)),
                Io::Uring => tokio_uring::spawn(uring_conn(args.addr, end, done)),
            });
        }
        for t in tasks {
            t.await.context("a connection's task")??;
        }
        Ok::<_, anyhow::Error>(())
    };
    match args.io {
        Io::Epoll => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            tokio::task::LocalSet::new().block_on(&rt, run)?;
        }
        Io::Uring => tokio_uring::start(run)?,
    }
    let out = format!("requests={}\n", done.get());
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    Ok(())
}
