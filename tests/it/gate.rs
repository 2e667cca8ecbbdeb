//! The promotion gate against real runs of the built-in target.
