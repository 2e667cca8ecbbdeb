//! Accepting connections and serving them with hyper: HTTP/1.1 keep-alive
//! and HTTP/2 (prior knowledge on plain TCP, ALPN over TLS), picked per
//! connection by hyper-util's auto builder.
//!
//! This file also owns how an injected reset reaches the wire. A request
//! that draws a reset flags its connection and wakes the connection's task,
//! which drops the connection at once; the socket wrapper [`ConnIo`] sets
//! `SO_LINGER` to 0 on its way out, so the kernel sends RST instead of FIN.
//! Doing it on drop, per connection, means healthy connections still close
//! politely even while resets are injected on others.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::service::{handle, Conn, Shared};

/// A client that connects and never finishes the handshake is dropped
/// after this, so it cannot pin a connection task forever.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (out of file descriptors, typically), so
/// the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

pub(crate) fn http_builder(wire: &super::WireFaults) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        // Hyper's default also times out *idle* keep-alive connections;
        // a slow load profile must not see connections vanish under it.
        .header_read_timeout(None)
        .pipeline_flush(true)
        .http2()
        // A load generator multiplexing many requests on few connections
        // should be limited by its own settings, not by this fixture's.
        .max_concurrent_streams(wire.h2_max_streams.unwrap_or(1024));
    builder
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    builder: Arc<Builder<TokioExecutor>>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Counted always, logged at powers of two: out of fds lasts,
                // and one line per pause would flood the log.
                let n = shared.stats.accept_error();
                if n.is_power_of_two() {
                    tracing::warn!("sample target: accept failed ({n} so far): {e}");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Latency measurements must not include Nagle's delay.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("sample target: TCP_NODELAY: {e}");
        }
        let conn = Arc::new(Conn::new(Arc::clone(&shared), peer.ip()));
        let io = ConnIo {
            stream,
            conn: Arc::clone(&conn),
        };
        let (tls, builder) = (tls.clone(), Arc::clone(&builder));
        let raw = shared.wire.raw_h1(shared.knobs.get().reset_rate);
        tokio::spawn(async move {
            match tls {
                None if raw => super::wire::serve_raw(io, Arc::clone(&conn), &conn.shared.wire).await,
                None => serve(&builder, io, conn).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                    Ok(Ok(stream)) if raw => super::wire::serve_raw(stream, Arc::clone(&conn), &conn.shared.wire).await,
                    Ok(Ok(stream)) => serve(&builder, stream, conn).await,
                    Ok(Err(e)) => tracing::debug!("sample target: TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("sample target: TLS handshake timed out"),
                },
            }
        });
    }
}

async fn serve<I>(builder: &Builder<TokioExecutor>, io: I, conn: Arc<Conn>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let for_service = Arc::clone(&conn);
    let service = service_fn(move |req| handle(Arc::clone(&for_service), req));
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut goaway_sent = false;
    loop {
        tokio::select! {
            // Checked first: once a reset is asked for, nothing else (an
            // HTTP/2 stream reset, a half-written response) may reach the wire.
            biased;
            () = conn.abort.notified() => return,
            () = conn.goaway.notified(), if !goaway_sent => {
                // GOAWAY now; streams already accepted are still answered.
                goaway_sent = true;
                connection.as_mut().graceful_shutdown();
            }
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("sample target: connection ended: {e}");
                }
                return;
            }
        }
    }
}

/// The accepted socket, as hyper and rustls see it. It exists for its
/// `Drop`: see the module doc.
struct ConnIo {
    stream: TcpStream,
    conn: Arc<Conn>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.conn.reset_requested() {
            if let Err(e) = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO)) {
                tracing::debug!("sample target: SO_LINGER: {e}");
            }
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
