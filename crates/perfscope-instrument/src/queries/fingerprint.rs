//! Statement fingerprints: one normalized text per query shape, with literals, bind
//! parameters and IN-lists replaced and comments and whitespace normalized, so that
//! `WHERE id = 1` and `WHERE id = 42` count as one query.
//!
//! The statement is split with `sqlparser`'s tokenizer (never regexes); a statement the
//! tokenizer rejects (an unterminated string, a stray character) falls back to a plain
//! character-level normalization. Neither ever panics.

use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A statement's fingerprint: the normalized text and its 64-bit hash (FNV-1a).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// FNV-1a of [`normalized`](Self::normalized).
    pub hash: u64,
    /// The normalized statement: keywords upper case, literals and parameters `?`, lists of
    /// them `(...)`, comments dropped, single spaces.
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

/// Words written upper case in a fingerprint; every other unquoted word (identifiers, and
/// keywords that are often column names, like `name` or `id`) is written lower case.
const STRUCTURE: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASE",
    "COMMIT",
    "CONFLICT",
    "CREATE",
    "CROSS",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DO",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INDEX",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NOTHING",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "QUERY",
    "RECURSIVE",
    "REPLACE",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "SELECT",
    "SET",
    "TABLE",
    "THEN",
    "UNION",
    "UPDATE",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
];

/// `word` upper case if it is one of [`STRUCTURE`], else lower case.
fn word_case(word: &str) -> String {
    let upper = word.to_uppercase();
    if STRUCTURE.contains(&upper.as_str()) { upper } else { word.to_lowercase() }
}

/// One normalized token.
#[derive(Debug, Clone, PartialEq)]
enum Norm {
    /// A literal or a bind parameter.
    Value,
    /// A parenthesized list of values, `(...)`.
    List,
    Open,
    Close,
    Comma,
    Dot,
    Text(String),
}

/// The normalized text of `sql` (see [`Fingerprint::normalized`]).
pub fn normalize(sql: &str) -> String {
    let dialect = GenericDialect {};
    let tokens = match Tokenizer::new(&dialect, sql).tokenize() {
        Ok(tokens) => from_tokens(tokens),
        Err(_) => fallback(sql),
    };
    render(&collapse_lists(tokens))
}

fn from_tokens(tokens: Vec<Token>) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let norm = match token {
            Token::EOF | Token::Whitespace(_) => continue,
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_)
            | Token::Question => Norm::Value,
            Token::LParen => Norm::Open,
            Token::RParen => Norm::Close,
            Token::Comma => Norm::Comma,
            Token::Period => Norm::Dot,
            Token::Word(word) => {
                if word.quote_style.is_some() {
                    Norm::Text(word.to_string())
                } else if matches!(word.keyword, Keyword::TRUE | Keyword::FALSE | Keyword::NULL) {
                    Norm::Value
                } else {
                    Norm::Text(word_case(&word.value))
                }
            }
            other => Norm::Text(other.to_string()),
        };
        // A minus sign before a number, where no operand precedes it, is part of the literal.
        if norm == Norm::Value && unary_minus_before(&out) {
            out.pop();
        }
        out.push(norm);
    }
    out
}

/// Whether `out` ends with a `-` that is a sign (nothing or an operator before it).
fn unary_minus_before(out: &[Norm]) -> bool {
    let [.., before, Norm::Text(minus)] = out else {
        return matches!(out, [Norm::Text(m)] if m == "-");
    };
    minus == "-"
        && match before {
            Norm::Open | Norm::Comma => true,
            Norm::Text(t) => !t.chars().any(|c| c.is_alphanumeric() || c == '_'),
            Norm::Value | Norm::List | Norm::Close | Norm::Dot => false,
        }
}

/// `( ? , ? , ? )` and `(?)` become `(...)`, and so do lists of them (`VALUES (...), (...)`).
fn collapse_lists(tokens: Vec<Norm>) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if token == Norm::Close {
            // Walk back over `? , ? , ...` or `(...) , (...)` to an opening parenthesis.
            let mut i = out.len();
            let mut values = 0;
            let mut expect_value = true;
            while i > 0 {
                let t = &out[i - 1];
                match (expect_value, t) {
                    (true, Norm::Value | Norm::List) => values += 1,
                    (false, Norm::Comma) => {}
                    _ => break,
                }
                expect_value = !expect_value;
                i -= 1;
            }
            if values > 0 && !expect_value && i > 0 && out[i - 1] == Norm::Open {
                out.truncate(i - 1);
                out.push(Norm::List);
                collapse_repeated_lists(&mut out);
                continue;
            }
        }
        out.push(token);
    }
    out
}

/// `(...) , (...)` at the end of `out` becomes one `(...)` (multi-row `VALUES`).
fn collapse_repeated_lists(out: &mut Vec<Norm>) {
    while let [.., Norm::List, Norm::Comma, Norm::List] = out.as_slice() {
        out.truncate(out.len() - 2);
    }
}

fn render(tokens: &[Norm]) -> String {
    let mut s = String::new();
    let mut glue_next = true;
    for token in tokens {
        let (text, glue_before, glue_after) = match token {
            Norm::Value => ("?", false, false),
            Norm::List => ("(...)", false, false),
            Norm::Open => ("(", false, true),
            Norm::Close => (")", true, false),
            Norm::Comma => (",", true, false),
            Norm::Dot => (".", true, true),
            Norm::Text(t) => (t.as_str(), false, false),
        };
        if !(glue_next || glue_before || s.is_empty()) {
            s.push(' ');
        }
        s.push_str(text);
        glue_next = glue_after;
    }
    while s.ends_with(';') {
        s.pop();
        s.truncate(s.trim_end().len());
    }
    s
}

/// A plain normalization for what the tokenizer rejects: comments dropped, quoted strings and
/// numbers as values, other words upper-cased when all letters, one space between words.
fn fallback(sql: &str) -> Vec<Norm> {
    let mut out = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 1;
                    } else {
                        break;
                    }
                }
                i += 1;
            }
            i += 1;
            out.push(Norm::Value);
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Norm::Value);
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Norm::Text(word_case(&word)));
        } else {
            out.push(match c {
                '(' => Norm::Open,
                ')' => Norm::Close,
                ',' => Norm::Comma,
                '.' => Norm::Dot,
                '?' => Norm::Value,
                _ => Norm::Text(c.to_string()),
            });
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(Fingerprint::of(a), Fingerprint::of(b), "{a:?} vs {b:?}");
    }

    #[test]
    fn literals_lists_comments_and_whitespace_do_not_change_the_fingerprint() {
        same("SELECT * FROM users WHERE id = 1", "SELECT * FROM users WHERE id = 42");
        same("select name from t where s = 'a'", "SELECT  name\n FROM t WHERE s='it''s'");
        same("SELECT 1 FROM t WHERE id IN (1,2,3)", "SELECT 7 FROM t WHERE id IN (4)");
        same("SELECT a FROM t -- trailing\nWHERE b = ?", "SELECT a /* c */ FROM t WHERE b = $1;");
        same(
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
            "insert into t (a, b) values (3, 'z')",
        );
        same("SELECT * FROM t WHERE x > -5", "SELECT * FROM t WHERE x > 7");
        assert_eq!(
            normalize("select id, name from users where id in (1, 2, 3) and name = 'x'"),
            "SELECT id, name FROM users WHERE id IN (...) AND name = ?"
        );
        assert_eq!(
            normalize("INSERT INTO t (a, b) VALUES (1, 2)"),
            "INSERT INTO t (a, b) VALUES (...)"
        );
        assert_ne!(Fingerprint::of("SELECT a FROM t"), Fingerprint::of("SELECT b FROM t"));
        assert_eq!(normalize("SELECT a - 1 FROM t"), "SELECT a - ? FROM t");
    }

    #[test]
    fn malformed_statements_fall_back_to_a_plain_normalization() {
        same("SELECT 'unterminated", "SELECT 'also unterminated");
        assert_eq!(normalize("SELECT x FROM t WHERE s = 'open"), "SELECT x FROM t WHERE s = ?");
        assert_eq!(normalize(""), "");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC*") {
            let _ = Fingerprint::of(&s);
        }

        #[test]
        fn arbitrary_sql_like_strings_never_panic(
            s in "[a-zA-Z0-9 '\"`$?:(),.;*/\\-+=<>\\[\\]\n\\\\]{0,64}"
        ) {
            let _ = Fingerprint::of(&s);
        }

        #[test]
        fn integer_literals_never_change_the_fingerprint(a in proptest::num::i64::ANY, b in 0u32..) {
            same(&format!("SELECT * FROM t WHERE id = {a}"), &format!("SELECT * FROM t WHERE id = {b}"));
        }
    }
}
