//! Normalized tokens as text: single spaces between words, none inside `a.b`, `x::text`,
//! `a[1]`, `ARRAY[...]` or after `(`, none before `)` or `,`, and a function call's `(` against its name
//! (`count(*)`, `coalesce(b, ?)`, `CAST(? AS text)`, `= ANY(?)`), while a table's column list
//! keeps its space (`INSERT INTO t (a, b)`). Trailing `;` go.

use super::lex::Norm;

/// Keywords written like a function call, their `(` against them.
const CALL_KEYWORDS: &[&str] = &["ANY", "CAST", "SOME"];
/// Keywords after which a name and `(` are a table and its columns, not a call.
const TABLE_KEYWORDS: &[&str] = &["INTO", "RECURSIVE", "REFERENCES", "TABLE", "WITH"];

/// The text of `tokens`.
pub(super) fn render(tokens: &[Norm]) -> String {
    let mut s = String::new();
    let mut glue_next = true;
    for (i, token) in tokens.iter().enumerate() {
        let (text, glue_before, glue_after) = match token {
            Norm::Value => ("?", false, false),
            Norm::List => ("(...)", call(&tokens[..i]), false),
            Norm::ArrayList => ("[...]", true, false),
            Norm::Open => ("(", call(&tokens[..i]), true),
            Norm::Close => (")", true, false),
            Norm::OpenBracket => ("[", subscript(tokens[..i].last()), true),
            Norm::CloseBracket => ("]", true, false),
            Norm::Comma => (",", true, false),
            Norm::Dot => (".", true, true),
            Norm::Cast => ("::", true, true),
            Norm::Keyword(t) | Norm::Word(t) | Norm::Op(t) => (t.as_str(), false, false),
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

/// Whether a `[` after `before` is a subscript or `ARRAY[`, against what precedes it (else it
/// quotes an identifier, SQLite's `[name]`).
fn subscript(before: Option<&Norm>) -> bool {
    match before {
        Some(Norm::Keyword(k)) => k == "ARRAY",
        Some(Norm::Word(_) | Norm::Value | Norm::Close | Norm::CloseBracket) => true,
        _ => false,
    }
}

/// Whether a `(` after `before` opens a call's arguments: after a function's name (possibly
/// qualified, `pg_catalog.lower`) or one of [`CALL_KEYWORDS`], but not after a table's name.
fn call(before: &[Norm]) -> bool {
    match before.last() {
        Some(Norm::Keyword(k)) => CALL_KEYWORDS.contains(&k.as_str()),
        Some(Norm::Word(_)) => {
            // Back over `schema.name` to what precedes the name.
            let mut i = before.len() - 1;
            while i >= 2 && before[i - 1] == Norm::Dot && matches!(before[i - 2], Norm::Word(_)) {
                i -= 2;
            }
            !matches!(i.checked_sub(1).map(|j| &before[j]),
                Some(Norm::Keyword(k)) if TABLE_KEYWORDS.contains(&k.as_str()))
        }
        _ => false,
    }
}
