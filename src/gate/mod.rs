//! The promotion gate: a run's result files plus one policy decide
//! whether a change moves on to the environment it is entering.
//!
//! This module holds the policy format ([`policy`]): one file for every
//! environment, where the checks are the same everywhere and what differs
//! is the action (observe, warn, block) and the strictness (minimum soak,
//! what an inconclusive comparison or a check without data does).

pub mod policy;
