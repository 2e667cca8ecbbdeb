//! Deterministic key spaces: a profile variable (or the tenants) drawing
//! its values from a column of a synth schema, so the load names rows the
//! seeder wrote with the same seed and scale, without reading the database.
//!
//! A key is a pure function of (schema, seed, scale, table, column, row):
//! [`crate::synth::Generator::cell`] computes it the same way `loadline synth`
//! does, so nothing is stored per row. The schema is loaded once per
//! profile: every variable naming the same file, seed and scale shares one
//! generator ([`Schemas`]).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::synth::batch::Cell;
use crate::synth::schema::{self, Schema};
use crate::synth::Generator;

/// One column of one table of a schema, as keys: row `r` (0-based) is the
/// value `loadline synth` writes in that column of row `r`.
#[derive(Debug, Clone)]
pub struct KeySpace {
    gen: Arc<Generator>,
    table: usize,
    column: usize,
    rows: u64,
}

thread_local! {
    /// The text buffer cells are generated into: reused, so a request's key
    /// allocates nothing once it has grown.
    static CELL_TEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

impl KeySpace {
    /// The number of keys: the table's rows after scaling (never 0).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// `schema.table.column`, for messages.
    pub fn describe(&self) -> String {
        let t = &self.gen.schema().tables[self.table];
        format!("{}.{}", t.name, t.columns[self.column].name)
    }

    /// Append the key of row `row` (0-based, below [`Self::rows`]) to `out`,
    /// as text the way the CSV sink writes it (a NULL writes nothing).
    pub fn write(&self, row: u64, out: &mut Vec<u8>) {
        CELL_TEXT.with_borrow_mut(|text| {
            text.clear();
            match self.gen.cell(self.table, self.column, row, text) {
                Cell::Null => {}
                Cell::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
                Cell::Text { start, len } | Cell::Json { start, len } => {
                    let (start, len) = (start as usize, len as usize);
                    out.extend_from_slice(&text.as_bytes()[start..start + len]);
                }
                other => {
                    let from = text.len();
                    crate::synth::encode::scalar(&other, false, text);
                    out.extend_from_slice(&text.as_bytes()[from..]);
                }
            }
        });
    }

    /// The key of row `row` as a string.
    pub fn key(&self, row: u64) -> String {
        let mut out = Vec::new();
        self.write(row, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Why a key space cannot be made from a schema; the caller adds the
/// profile's file, line and key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The schema does not load (its own file, line and key are in it).
    #[error("{0}")]
    Schema(String),
    /// No seed in the schema file nor in the profile: the keys would not
    /// be the ones any seeder wrote.
    #[error("{} has no seed: give `seed:` here (the seed `loadline synth --seed` was given) so the keys are the seeded ones", .0.display())]
    NoSeed(PathBuf),
    /// The table is not in the schema.
    #[error("{} has no table `{table}` (tables: {known})", .path.display())]
    Table {
        /// The schema file.
        path: PathBuf,
        /// The table asked for.
        table: String,
        /// The schema's tables.
        known: String,
    },
    /// The column is not in the table.
    #[error("{}: table `{table}` has no column `{column}` (columns: {known})", .path.display())]
    Column {
        /// The schema file.
        path: PathBuf,
        /// The table.
        table: String,
        /// The column asked for.
        column: String,
        /// The table's columns.
        known: String,
    },
    /// The table has no rows, so no key.
    #[error("{}: table `{table}` has no rows, so there is no key to draw", .path.display())]
    Empty {
        /// The schema file.
        path: PathBuf,
        /// The table.
        table: String,
    },
    /// The column can be NULL, which no request can name.
    #[error(
        "{}: column `{table}.{column}` is NULL in {share} of rows, and a NULL names no row: pick a column without `nulls`",
        .path.display()
    )]
    Nullable {
        /// The schema file.
        path: PathBuf,
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its share of NULLs, as a percentage.
        share: String,
    },
}

/// A loaded schema's identity: its file (canonical), the seed and the
/// scale's bits asked for (`None`: the schema's own).
type SchemaKey = (PathBuf, Option<u64>, Option<u64>);

/// The schemas one profile loaded, each once per (file, seed, scale).
#[derive(Debug, Default)]
pub struct Schemas {
    loaded: RefCell<Vec<(SchemaKey, Arc<Generator>)>>,
}

impl Schemas {
    /// The generator of the schema at `path` with this seed and scale
    /// (`None`: the schema's own), loaded the way `loadline synth` loads it.
    pub fn generator(&self, path: &Path, seed: Option<u64>, scale: Option<f64>) -> Result<Arc<Generator>, KeyError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let scale_bits = scale.map(f64::to_bits);
        let key: SchemaKey = (canonical, seed, scale_bits);
        if let Some((_, g)) = self.loaded.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(g));
        }
        let schema =
            schema::load(path, &schema::Options { scale, seed }).map_err(|e| KeyError::Schema(e.to_string()))?;
        if !schema.seed_given {
            return Err(KeyError::NoSeed(path.to_path_buf()));
        }
        let gen = Arc::new(Generator::new(schema).map_err(|e| KeyError::Schema(e.to_string()))?);
        self.loaded.borrow_mut().push((key, Arc::clone(&gen)));
        Ok(gen)
    }
}

/// The key space of `table.column` of a loaded schema: the column must
/// exist and never be NULL (a `ref` column is fine: it yields parent keys).
pub fn key_space(gen: Arc<Generator>, table: &str, column: &str) -> Result<KeySpace, KeyError> {
    let s: &Schema = gen.schema();
    let Some((ti, t)) = s.table(table) else {
        return Err(KeyError::Table {
            path: s.path.clone(),
            table: table.to_string(),
            known: s.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        });
    };
    let Some(ci) = t.columns.iter().position(|c| c.name == column) else {
        return Err(KeyError::Column {
            path: s.path.clone(),
            table: table.to_string(),
            column: column.to_string(),
            known: t.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
        });
    };
    let c = &t.columns[ci];
    if c.nulls > 0.0 {
        return Err(KeyError::Nullable {
            path: s.path.clone(),
            table: table.to_string(),
            column: column.to_string(),
            share: crate::units::Percent::from_fraction(c.nulls).to_string(),
        });
    }
    if t.rows == 0 {
        return Err(KeyError::Empty {
            path: s.path.clone(),
            table: table.to_string(),
        });
    }
    let rows = t.rows;
    Ok(KeySpace {
        gen,
        table: ti,
        column: ci,
        rows,
    })
}
