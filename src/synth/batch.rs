//! The rows a generator makes and every encoder and sink reads: a batch of
//! cells whose text shares one buffer. Its own module so that the generators
//! (`gen`), which encode JSON documents with `encode`'s helpers, and the
//! encoders, which read cells, both depend on it and not on each other.

/// One generated value. Text lives in the batch's string buffer, so a
/// batch of rows is two allocations, not one per cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// SQL NULL (an unquoted empty CSV field, `\N` in COPY text, `null` in JSON).
    Null,
    /// A whole number.
    Int(i64),
    /// A floating-point number; not finite is written `NaN` (`null` in JSON).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Unix seconds, UTC.
    Time(i64),
    /// Unix seconds of midnight UTC.
    Date(i64),
    /// A UUID as a 128-bit number (written hyphenated).
    Uuid(u128),
    /// Text at `start..start + len` (bytes) of the batch's text buffer.
    Text {
        /// Byte offset in [`RowBatch::text`].
        start: u32,
        /// Length in bytes.
        len: u32,
    },
    /// A JSON document (already encoded), in the text buffer.
    Json {
        /// Byte offset in [`RowBatch::text`].
        start: u32,
        /// Length in bytes.
        len: u32,
    },
}

/// Consecutive rows of one table.
#[derive(Debug, Default)]
pub struct RowBatch {
    /// 0-based number of the first row in its table.
    pub first_row: u64,
    /// How many rows the batch holds.
    pub rows: usize,
    /// Cells per row (the table's column count).
    pub ncols: usize,
    /// `rows * ncols` cells, row after row; empty when a chunk carries
    /// encoded bytes instead.
    pub cells: Vec<Cell>,
    /// The text of every `Text` and `Json` cell, end to end.
    pub text: String,
}

impl RowBatch {
    /// The cells of row `r` (0-based within the batch).
    pub fn row(&self, r: usize) -> &[Cell] {
        &self.cells[r * self.ncols..(r + 1) * self.ncols]
    }

    /// The text of a `Text` or `Json` cell ("" for others).
    pub fn str(&self, c: &Cell) -> &str {
        match *c {
            Cell::Text { start, len } | Cell::Json { start, len } => {
                &self.text[start as usize..start as usize + len as usize]
            }
            _ => "",
        }
    }
}
