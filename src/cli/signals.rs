//! Ctrl-C and SIGTERM for the synchronous commands (`synth`, `scrub`),
//! which run on plain threads with blocking database clients: a watcher
//! thread with a small Tokio runtime waits for the signals (the same
//! handlers `run` uses) and raises an [`interrupt::Flag`] that the job
//! checks between batches. The first signal stops the job cleanly (it
//! removes its partial files and rolls back its transaction, then the
//! command exits 130 or 143); a second one ends the process at once with
//! the same code, for a job stuck in a slow statement.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use crate::interrupt;
use crate::load::stop::Signal;
use crate::printer::Printer;

/// The signals being watched: the flag a job checks, and which signal
/// raised it.
#[derive(Debug, Clone)]
pub struct Watch {
    flag: interrupt::Flag,
    which: Arc<OnceLock<Signal>>,
}

impl Watch {
    /// The flag to hand to the job.
    pub fn flag(&self) -> interrupt::Flag {
        self.flag.clone()
    }

    /// The signal that raised the flag (Ctrl-C if the flag was raised
    /// another way, which the CLI never does).
    pub fn signal(&self) -> Signal {
        self.which.get().copied().unwrap_or(Signal::Interrupt)
    }
}

/// Install the handlers and start watching; returns once they are in
/// place, so a signal sent after this never takes the default action
/// (killing the process with its files half-written).
pub fn watch(printer: Printer) -> std::io::Result<Watch> {
    let w = Watch {
        flag: interrupt::Flag::new(),
        which: Arc::new(OnceLock::new()),
    };
    let (ready_tx, ready_rx) = mpsc::sync_channel::<std::io::Result<()>>(1);
    let inner = w.clone();
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        rt.block_on(wait_for_signals(inner, ready_tx, printer));
    })?;
    ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("the signal watcher stopped before it started"))??;
    Ok(w)
}

async fn wait_for_signals(w: Watch, ready: mpsc::SyncSender<std::io::Result<()>>, printer: Printer) {
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let first = signals.next().await;
    let _ = w.which.set(first);
    w.flag.raise();
    printer.info(format!(
        "{first}: stopping (removing partial output, rolling back); send it again to end at once"
    ));
    let second = signals.next().await;
    printer.error(format!(
        "{second} again: ending at once (exit {}); a database rolls back the open transaction when the connection drops; `.partial` files may be left",
        second.exit_code()
    ));
    std::process::exit(i32::from(second.exit_code()));
}

/// Both handlers, installed before the job starts.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Signal::Interrupt,
                _ = self.terminate.recv() => Signal::Terminate,
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
}
