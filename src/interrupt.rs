//! The stop flag that lets a synchronous job (`synth`, `scrub`) end early
//! and cleanly: the CLI raises it when Ctrl-C or SIGTERM arrives, the job
//! checks it between batches, undoes what it started (partial files
//! removed, the open transaction rolled back) and returns
//! [`Interrupted`]. The library never installs signal handlers itself:
//! whoever calls it decides what stops it (a test raises the flag by hand).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag shared between whoever stops a job and the job; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Flag(Arc<AtomicBool>);

impl Flag {
    /// A flag nobody has raised yet.
    pub fn new() -> Flag {
        Flag::default()
    }

    /// Ask the job to stop at its next check.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the job was asked to stop.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Interrupted)` once the flag is raised: `flag.check()?` between
    /// batches.
    pub fn check(&self) -> Result<(), Interrupted> {
        if self.is_raised() {
            Err(Interrupted)
        } else {
            Ok(())
        }
    }
}

/// A job stopped because its [`Flag`] was raised; what it undid is said by
/// the job's own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_flag_is_seen_by_every_clone() {
        let f = Flag::new();
        let g = f.clone();
        assert_eq!(g.check(), Ok(()));
        f.raise();
        assert!(g.is_raised());
        assert_eq!(g.check(), Err(Interrupted));
    }
}
