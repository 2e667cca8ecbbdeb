//! Access-log formats and the line reader.
//!
//! A [`Format`] builds a [`LineParser`]; the parser turns one line into a
//! [`Record`](super::Record) or a [`Reject`] reason. Lines are never copied
//! into errors or reports: a rejected line is counted by reason with its line
//! number only.
