//! A statement as normalized tokens: [`from_tokens`] from `sqlparser`'s tokens, [`fallback`]
//! from the characters of what the tokenizer rejects. Both make the same choices: literals and
//! bind parameters become [`Norm::Value`], comments and whitespace go, [`STRUCTURE`] words are
//! upper case and other unquoted words lower case.

use sqlparser::tokenizer::Token;

/// One normalized token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Norm {
    /// A literal or a bind parameter: `?`.
    Value,
    /// A parenthesized list of values, `(...)`.
    List,
    /// A bracketed list of values after `ARRAY`, `[...]`.
    ArrayList,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `[`
    OpenBracket,
    /// `]`
    CloseBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `::`
    Cast,
    /// One of [`STRUCTURE`], upper case.
    Keyword(String),
    /// Any other word: an identifier or a function name, lower case, or quoted as written.
    Word(String),
    /// Operators and other punctuation, as written.
    Op(String),
}

/// Words written upper case in a fingerprint; every other unquoted word (identifiers,
/// function names, and keywords that are often column names, like `name` or `id`) is
/// written lower case.
const STRUCTURE: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COMMIT",
    "CONFLICT",
    "CREATE",
    "CROSS",
    "DEFAULT",
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
    "FALSE",
    "FOR",
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
    "NULL",
    "NULLS",
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
    "REFERENCES",
    "REPLACE",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "SELECT",
    "SET",
    "SOME",
    "TABLE",
    "THEN",
    "TRUE",
    "UNION",
    "UPDATE",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
];

/// `word` (unquoted) as a [`Norm::Keyword`] or a [`Norm::Word`].
fn word(word: &str) -> Norm {
    let upper = word.to_uppercase();
    if STRUCTURE.contains(&upper.as_str()) {
        Norm::Keyword(upper)
    } else {
        Norm::Word(word.to_lowercase())
    }
}

/// Whether `out`, the tokens so far, ends where an operand starts: nothing, `(`, `[`, `,`, an
/// operator or a keyword (but `END`, which closes a `CASE` operand). A sign or a `:` there
/// belongs to the value after it.
fn operand_starts(out: &[Norm]) -> bool {
    match out.last() {
        None | Some(Norm::Open | Norm::OpenBracket | Norm::Comma | Norm::Op(_)) => true,
        Some(Norm::Keyword(k)) => k != "END",
        Some(_) => false,
    }
}

/// Pushes a value, folding the signs before it (`-5`, `+$1`, `- -5`) into it where they are
/// unary: all of them, so that a normalized statement is its own normal form.
fn push_value(out: &mut Vec<Norm>) {
    while let Some(Norm::Op(sign)) = out.last()
        && (sign == "-" || sign == "+")
        && operand_starts(&out[..out.len() - 1])
    {
        out.pop();
    }
    out.push(Norm::Value);
}

/// Pushes an unquoted word. `NULL`, `TRUE` and `FALSE` are values, as constants are in
/// `pg_stat_statements`, except after `IS` and `NOT` (`IS NULL`, `IS NOT TRUE`, a column's
/// `NOT NULL`), where they are part of a test or a constraint and stay words.
fn push_word(out: &mut Vec<Norm>, text: &str) {
    let norm = word(text);
    if let Norm::Keyword(k) = &norm
        && matches!(k.as_str(), "NULL" | "TRUE" | "FALSE")
        && !matches!(out.last(), Some(Norm::Keyword(before)) if before == "IS" || before == "NOT")
    {
        return push_value(out);
    }
    out.push(norm);
}

/// Whether `token`, right after a `:`, names a parameter (`:id`, `:1`).
fn parameter_name(token: Option<&Token>) -> bool {
    match token {
        Some(Token::Word(w)) => w.quote_style.is_none(),
        Some(Token::Number(..)) => true,
        _ => false,
    }
}

/// The normalized tokens of a statement `sqlparser` tokenized.
pub(super) fn from_tokens(tokens: &[Token]) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        i += 1;
        match token {
            Token::EOF | Token::Whitespace(_) => {}
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
            | Token::Question => push_value(&mut out),
            // `:name` and `:1` (named and numbered parameters) where an operand starts; elsewhere
            // (`a[1:2]`) a `:` is punctuation.
            Token::Colon if operand_starts(&out) && parameter_name(tokens.get(i)) => {
                i += 1;
                push_value(&mut out);
            }
            Token::LParen => out.push(Norm::Open),
            Token::RParen => out.push(Norm::Close),
            Token::LBracket => out.push(Norm::OpenBracket),
            Token::RBracket => out.push(Norm::CloseBracket),
            Token::Comma => out.push(Norm::Comma),
            Token::Period => out.push(Norm::Dot),
            Token::DoubleColon => out.push(Norm::Cast),
            Token::Word(w) if w.quote_style.is_some() => out.push(Norm::Word(w.to_string())),
            // `@name`: SQLite's named parameter (sqlparser reads it as a word).
            Token::Word(w) if w.value.starts_with('@') && !w.value.starts_with("@@") => {
                push_value(&mut out)
            }
            Token::Word(w) => push_word(&mut out, &w.value),
            other => out.push(Norm::Op(other.to_string())),
        }
    }
    out
}

/// A plain normalization for what the tokenizer rejects (an unterminated string or comment,
/// a stray character): comments dropped, quoted strings, numbers and parameters (`?`, `?1`,
/// `$1`, `:name`, `@name`) as values, words as [`from_tokens`] writes them.
pub(super) fn fallback(sql: &str) -> Vec<Norm> {
    let mut out = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
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
            push_value(&mut out);
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            push_value(&mut out);
        } else if is_word(c) {
            let start = i;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            push_word(&mut out, &text);
        } else if matches!(c, '?' | '$' | ':' | '@')
            && (c == '?' || next.is_some_and(is_word))
            && (c != ':' || operand_starts(&out))
        {
            i += 1;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            push_value(&mut out);
        } else {
            i += 1;
            out.push(match c {
                '(' => Norm::Open,
                ')' => Norm::Close,
                '[' => Norm::OpenBracket,
                ']' => Norm::CloseBracket,
                ',' => Norm::Comma,
                '.' => Norm::Dot,
                _ => Norm::Op(c.to_string()),
            });
        }
    }
    out
}
