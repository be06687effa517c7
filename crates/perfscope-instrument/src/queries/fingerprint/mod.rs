//! Statement fingerprints: one normalized text per query shape, so that `WHERE id = 1` and
//! `WHERE id = 42` count as one query.
//!
//! The choices are [`normalize`]'s documentation.

mod lex;
mod render;
mod shape;

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::Tokenizer;

/// A statement's fingerprint: the normalized text and its 64-bit hash (FNV-1a).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// FNV-1a of [`normalized`](Self::normalized).
    pub hash: u64,
    /// The normalized statement: keywords upper case, literals and parameters `?`, lists of
    /// them `(...)`, comments dropped, single spaces (see [`normalize`]).
    pub normalized: String,
}

impl Fingerprint {
    /// The fingerprint of `sql`.
    pub fn of(sql: &str) -> Fingerprint {
        let normalized = normalize(sql);
        Fingerprint { hash: fnv1a(normalized.as_bytes()), normalized }
    }

    /// The first 8 hex digits of the hash.
    pub fn short_hash(&self) -> String {
        format!("{:08x}", self.hash >> 32)
    }

    /// The figures' label: the short hash and the normalized text cut to `max_chars`.
    pub fn label(&self, max_chars: usize) -> String {
        format!("{} {}", self.short_hash(), truncate_chars(&self.normalized, max_chars))
    }
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The normalized text of `sql`: what [`Fingerprint`] hashes.
///
/// What changes a statement's text but not its fingerprint:
/// - literals and bind parameters, all `?`: numbers (a unary sign included: `-5`), strings of
///   every quoting (`'a'`, `E'a'`, `$$a$$`, `X'00'`), `$1`, `?`, `?1`, `:name`, `@name`,
///   `$name`; and `NULL`, `TRUE` and `FALSE` as values (`SET a = NULL`, `flag = true`), which
///   `pg_stat_statements` replaces as constants too. After `IS` and `NOT` they stay words:
///   `IS NULL`, `IS NOT NULL`, `IS TRUE` and a column's `NOT NULL` are tests and constraints,
///   and `a IS NULL` and `a = NULL` differ;
/// - the length of a list of values: `IN (1, 2, 3)` and `IN ($1)` give `IN (...)`, tuples too
///   (`IN ((1, 2), (3, 4))`), a `VALUES` row of values `VALUES (...)`, and a multi-row
///   `VALUES` keeps one of each run of identical rows; `ARRAY[1, 2]` gives `ARRAY[...]`;
/// - comments (`--`, `/* */`), whitespace, the case of keywords and unquoted identifiers,
///   trailing `;`.
///
/// What does change it: identifiers (quoted ones as written), operators, and the values of
/// other parentheses, whose count is the shape (`f(?, ?)`, `varchar(?)`, `= (?)`).
///
/// The text reads like SQL: structure keywords (`SELECT`, `WHERE`...) upper case, other
/// words lower case, single spaces, a call's `(` against its name (`count(*)`), `a.b`,
/// `x::text`, `a[?]`.
/// The statement is split with `sqlparser`'s tokenizer (never regexes); a statement the
/// tokenizer rejects (an unterminated string, a stray character) falls back to a plain
/// character-level split making the same choices. Neither ever panics.
pub fn normalize(sql: &str) -> String {
    let dialect = GenericDialect {};
    let tokens = match Tokenizer::new(&dialect, sql).tokenize() {
        Ok(tokens) => lex::from_tokens(&tokens),
        Err(_) => lex::fallback(sql),
    };
    render::render(&shape::collapse(tokens))
}

#[cfg(test)]
mod tests;
