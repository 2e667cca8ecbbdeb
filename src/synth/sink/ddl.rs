//! Tables from the schema, in each SQL dialect: column types inferred from
//! the generators, primary keys, unique columns and foreign keys.
//!
//! Where the constraints go differs by engine, for load speed: PostgreSQL
//! builds a primary key, unique index or foreign key faster over a loaded
//! table than row by row, so they are added after the load; InnoDB stores
//! rows in primary-key order, so MySQL gets its primary key up front and
//! the rest after; SQLite cannot add constraints later, so it declares
//! foreign keys inline (they are checked only with `PRAGMA foreign_keys`).

use crate::synth::encode::Dialect;
use crate::synth::schema::{Column, Gen, Kind, Schema, Table};

/// Whether the column is a key (primary, unique or referenced), which
/// matters for MySQL: an indexed text column must be a `VARCHAR`.
fn is_keyish(schema: &Schema, table: &Table, ci: usize) -> bool {
    let c = &table.columns[ci];
    c.unique || table.primary_key == Some(ci) || matches!(c.gen, Gen::Ref { .. } | Gen::Key(_)) || {
        let ti = schema.tables.iter().position(|t| t.name == table.name);
        schema.tables.iter().any(|t| {
            t.columns
                .iter()
                .any(|x| matches!(x.gen, Gen::Ref { table, column, .. } if Some(table) == ti && column == ci))
        })
    }
}

/// The SQL type of column `ci` of `table` in dialect `d` (a text key is
/// `VARCHAR(255)` in MySQL, which cannot index `TEXT`).
fn column_type(d: Dialect, schema: &Schema, table: &Table, ci: usize) -> &'static str {
    let c: &Column = &table.columns[ci];
    match (d, c.kind) {
        (Dialect::Postgres, Kind::Int) => "bigint",
        (Dialect::Postgres, Kind::Float) => "double precision",
        (Dialect::Postgres, Kind::Bool) => "boolean",
        (Dialect::Postgres, Kind::Text) => "text",
        (Dialect::Postgres, Kind::Timestamp) => "timestamp",
        (Dialect::Postgres, Kind::Date) => "date",
        (Dialect::Postgres, Kind::Uuid) => "uuid",
        (Dialect::Postgres, Kind::Json) => "jsonb",
        (Dialect::Mysql, Kind::Int) => "BIGINT",
        (Dialect::Mysql, Kind::Float) => "DOUBLE",
        (Dialect::Mysql, Kind::Bool) => "BOOLEAN",
        (Dialect::Mysql, Kind::Text) if is_keyish(schema, table, ci) => "VARCHAR(255)",
        (Dialect::Mysql, Kind::Text) => "TEXT",
        (Dialect::Mysql, Kind::Timestamp) => "DATETIME",
        (Dialect::Mysql, Kind::Date) => "DATE",
        (Dialect::Mysql, Kind::Uuid) => "CHAR(36)",
        (Dialect::Mysql, Kind::Json) => "JSON",
        (Dialect::Sqlite, Kind::Int | Kind::Bool) => "INTEGER",
        (Dialect::Sqlite, Kind::Float) => "REAL",
        (Dialect::Sqlite, _) => "TEXT",
    }
}

/// `CREATE TABLE`, with what this dialect wants up front.
pub fn create_table(d: Dialect, schema: &Schema, ti: usize, selected: &[bool]) -> String {
    let t = &schema.tables[ti];
    let q = |s: &str| d.quote_ident(s);
    let mut cols = Vec::new();
    for (ci, c) in t.columns.iter().enumerate() {
        let mut def = format!("  {} {}", q(&c.name), column_type(d, schema, t, ci));
        if c.nulls == 0.0 || t.primary_key == Some(ci) {
            def.push_str(" NOT NULL");
        }
        if d == Dialect::Sqlite {
            if t.primary_key == Some(ci) {
                def.push_str(" PRIMARY KEY");
            }
            if let Gen::Ref { table, column, .. } = c.gen {
                if selected[table] {
                    let p = &schema.tables[table];
                    def.push_str(&format!(" REFERENCES {} ({})", q(&p.name), q(&p.columns[column].name)));
                }
            }
        }
        cols.push(def);
    }
    if d == Dialect::Mysql {
        if let Some(pk) = t.primary_key {
            cols.push(format!("  PRIMARY KEY ({})", q(&t.columns[pk].name)));
        }
    }
    let tail = if d == Dialect::Mysql {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    } else {
        ""
    };
    format!("CREATE TABLE {} (\n{}\n){tail}", q(&t.name), cols.join(",\n"))
}

/// What is added after every table is loaded: primary keys (PostgreSQL),
/// unique constraints, foreign keys to tables of this run.
pub fn constraints(d: Dialect, schema: &Schema, ti: usize, selected: &[bool]) -> Vec<String> {
    let t = &schema.tables[ti];
    let q = |s: &str| d.quote_ident(s);
    let mut out = Vec::new();
    if d == Dialect::Sqlite {
        for (ci, c) in t.columns.iter().enumerate() {
            if c.unique && t.primary_key != Some(ci) {
                out.push(format!(
                    "CREATE UNIQUE INDEX {} ON {} ({})",
                    q(&format!("{}_{}_key", t.name, c.name)),
                    q(&t.name),
                    q(&c.name)
                ));
            }
        }
        return out;
    }
    if d == Dialect::Postgres {
        if let Some(pk) = t.primary_key {
            out.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
                q(&t.name),
                q(&format!("{}_pkey", t.name)),
                q(&t.columns[pk].name)
            ));
        }
    }
    for (ci, c) in t.columns.iter().enumerate() {
        if (c.unique || is_key_target(schema, ti, ci)) && t.primary_key != Some(ci) {
            out.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                q(&t.name),
                q(&format!("{}_{}_key", t.name, c.name)),
                q(&c.name)
            ));
        }
    }
    for c in &t.columns {
        if let Gen::Ref { table, column, .. } = c.gen {
            if selected[table] {
                let p = &schema.tables[table];
                out.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(&t.name),
                    q(&format!("{}_{}_fkey", t.name, c.name)),
                    q(&c.name),
                    q(&p.name),
                    q(&p.columns[column].name)
                ));
            }
        }
    }
    out
}

/// A key column (serial or key template) that a foreign key points at but
/// that is not the primary key still needs a unique constraint.
fn is_key_target(schema: &Schema, ti: usize, ci: usize) -> bool {
    schema.tables.iter().any(|t| {
        t.columns
            .iter()
            .any(|x| matches!(x.gen, Gen::Ref { table, column, .. } if table == ti && column == ci))
    })
}

/// `DROP TABLE IF EXISTS` of one table.
pub fn drop_table(d: Dialect, name: &str) -> String {
    // No CASCADE: a table outside the run that points at this one makes
    // the drop fail with the server's explanation, rather than silently
    // losing its foreign key.
    format!("DROP TABLE IF EXISTS {}", d.quote_ident(name))
}

/// The marker tables of a sharded seed (see [`super::Marker`]), created if
/// missing: the run's settings per table, and the shards loaded per table.
pub fn seed_marker_tables(d: Dialect) -> [&'static str; 2] {
    match d {
        Dialect::Mysql => [
            "CREATE TABLE IF NOT EXISTS loadline_seed_runs (\n  table_name VARCHAR(255) NOT NULL PRIMARY KEY,\n  \
             schema_sha256 CHAR(64) NOT NULL,\n  seed VARCHAR(20) NOT NULL,\n  scale VARCHAR(64) NOT NULL,\n  \
             shards INT NOT NULL,\n  `rows` BIGINT NOT NULL,\n  \
             prepared_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  finished_at DATETIME NULL\n) ENGINE=InnoDB",
            "CREATE TABLE IF NOT EXISTS loadline_seed_shards (\n  table_name VARCHAR(255) NOT NULL,\n  \
             shard INT NOT NULL,\n  `rows` BIGINT NOT NULL,\n  loaded_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  \
             PRIMARY KEY (table_name, shard)\n) ENGINE=InnoDB",
        ],
        _ => [
            "CREATE TABLE IF NOT EXISTS loadline_seed_runs (\n  table_name text PRIMARY KEY,\n  \
             schema_sha256 text NOT NULL,\n  seed text NOT NULL,\n  scale text NOT NULL,\n  \
             shards integer NOT NULL,\n  rows bigint NOT NULL,\n  \
             prepared_at timestamptz NOT NULL DEFAULT now(),\n  finished_at timestamptz\n)",
            "CREATE TABLE IF NOT EXISTS loadline_seed_shards (\n  table_name text NOT NULL,\n  \
             shard integer NOT NULL,\n  rows bigint NOT NULL,\n  loaded_at timestamptz NOT NULL DEFAULT now(),\n  \
             PRIMARY KEY (table_name, shard)\n)",
        ],
    }
}
