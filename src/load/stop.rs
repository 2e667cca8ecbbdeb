//! The signals that stop a job early: Ctrl-C (SIGINT) at a terminal, and
//! SIGTERM, which is how Kubernetes, systemd and container runtimes stop a
//! process. The first one stops cleanly; the CLI treats a second one as an
//! abort.

use std::fmt;

/// A signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C at a terminal.
    Interrupt,
    /// SIGTERM: a supervisor (Kubernetes, systemd, `kill`) stopping the process.
    Terminate,
}

impl Signal {
    /// The conventional exit code of a process that ends because of this
    /// signal: 128 + its number (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// Resolves at the next Ctrl-C or SIGTERM, saying which. Must run inside a
/// Tokio runtime with I/O enabled. Where a handler cannot be installed, that
/// signal keeps its default action (the process ends) and this waits for the
/// other one.
pub async fn next() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => Signal::Interrupt,
                Err(_) => std::future::pending().await,
            }
        };
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                s = interrupt => s,
                _ = term.recv() => Signal::Terminate,
            },
            Err(_) => interrupt.await,
        }
    }
    #[cfg(not(unix))]
    {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}
