//! `loadline synth learn`: a schema fitted from a database or a directory
//! of files, with the shape of the data and none of its values.

pub mod source;
