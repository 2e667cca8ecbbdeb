//! The load engine: replays a profile against an HTTP service.
//!
//! [`run`] starts one worker per core (`worker`), each with its own
//! connections and histograms; [`schedule`] says when each request of the
//! open model is due; [`client`] speaks HTTP/1.1 and HTTP/2; [`engine`]
//! collects one interval per second from every worker into the run's files.

pub mod client;
pub mod engine;
mod progress;
pub mod recorder;
pub mod schedule;
pub mod stop;
mod summary;
mod timer;
mod worker;

pub use engine::{run, Error, RunOptions, RunReport};
