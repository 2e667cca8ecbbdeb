//! The rows a generator makes and every encoder and sink reads: a batch of
//! cells whose text shares one buffer. Its own module so that the generators
//! (`gen`), which encode JSON documents with `encode`'s helpers, and the
//! encoders, which read cells, both depend on it and not on each other.

/// One generated value. Text lives in the batch's string buffer, so a
/// batch of rows is two allocations, not one per cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Unix seconds, UTC.
    Time(i64),
    /// Unix seconds of midnight UTC.
    Date(i64),
    Uuid(u128),
    Text {
        start: u32,
        len: u32,
    },
    /// A JSON document (already encoded), in the text buffer.
    Json {
        start: u32,
        len: u32,
    },
}

/// Consecutive rows of one table.
#[derive(Debug, Default)]
pub struct RowBatch {
    pub first_row: u64,
    pub rows: usize,
    pub ncols: usize,
    pub cells: Vec<Cell>,
    pub text: String,
}

impl RowBatch {
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
