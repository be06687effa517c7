//! Fingerprints of realistic statements (SQLite and PostgreSQL), and properties over
//! arbitrary ones.

use proptest::prelude::*;

use super::*;

fn same(a: &str, b: &str) {
    assert_eq!(Fingerprint::of(a), Fingerprint::of(b), "{a:?} vs {b:?}");
}

fn differ(a: &str, b: &str) {
    assert_ne!(Fingerprint::of(a).hash, Fingerprint::of(b).hash, "{a:?} vs {b:?}");
}

/// Checks each `(statement, normalized)` pair, and that normalizing the result again changes
/// nothing (a fingerprint's text is its own fingerprint).
fn normalizes(cases: &[(&str, &str)]) {
    for (sql, expected) in cases {
        assert_eq!(normalize(sql), *expected, "{sql:?}");
        assert_eq!(normalize(expected), *expected, "normalizing {expected:?} again");
    }
}

#[test]
fn literals_lists_comments_and_whitespace_do_not_change_the_fingerprint() {
    same("SELECT * FROM users WHERE id = 1", "SELECT * FROM users WHERE id = 42");
    same("select name from t where s = 'a'", "SELECT  name\n FROM t WHERE s='it''s'");
    same("SELECT 1 FROM t WHERE id IN (1,2,3)", "SELECT 7 FROM t WHERE id IN (4)");
    same("SELECT a FROM t -- trailing\nWHERE b = ?", "SELECT a /* c */ FROM t WHERE b = $1;");
    same("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "insert into t (a, b) values (3, 'z')");
    same("SELECT * FROM t WHERE x > -5", "SELECT * FROM t WHERE x > 7");
    normalizes(&[
        (
            "select id, name from users where id in (1, 2, 3) and name = 'x'",
            "SELECT id, name FROM users WHERE id IN (...) AND name = ?",
        ),
        ("INSERT INTO t (a, b) VALUES (1, 2)", "INSERT INTO t (a, b) VALUES (...)"),
        ("SELECT a - 1 FROM t", "SELECT a - ? FROM t"),
    ]);
    differ("SELECT a FROM t", "SELECT b FROM t");
}

#[test]
fn a_call_keeps_its_parenthesis_against_its_name() {
    normalizes(&[
        ("SELECT count(*) FROM t", "SELECT count(*) FROM t"),
        (
            "SELECT COUNT ( * ), max(a), coalesce(b, 0) FROM t",
            "SELECT count(*), max(a), coalesce(b, ?) FROM t",
        ),
        ("SELECT pg_catalog.lower(name) FROM t", "SELECT pg_catalog.lower(name) FROM t"),
        ("SELECT CAST('x' AS text) FROM t", "SELECT CAST(? AS text) FROM t"),
        ("SELECT * FROM t WHERE id = ANY ($1)", "SELECT * FROM t WHERE id = ANY(?)"),
        (
            "SELECT * FROM t WHERE d > now() - interval '1 day'",
            "SELECT * FROM t WHERE d > now() - interval ?",
        ),
        (
            "SELECT sum(x) OVER (PARTITION BY y ORDER BY z) FROM t",
            "SELECT sum(x) OVER (PARTITION BY y ORDER BY z) FROM t",
        ),
        // A table's column list is not a call.
        ("INSERT INTO public.t(a, b) VALUES (1, 2)", "INSERT INTO public.t (a, b) VALUES (...)"),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
            "WITH RECURSIVE r (n) AS (SELECT ? UNION ALL SELECT n + ? FROM r) SELECT n FROM r",
        ),
        ("SELECT EXISTS(SELECT 1 FROM t)", "SELECT EXISTS (SELECT ? FROM t)"),
    ]);
    same("SELECT count(*) FROM t", "select COUNT (*) from t");
}

#[test]
fn null_true_and_false_are_values_except_in_tests_and_constraints() {
    normalizes(&[
        (
            "SELECT * FROM t WHERE a IS NOT NULL AND b IS NULL",
            "SELECT * FROM t WHERE a IS NOT NULL AND b IS NULL",
        ),
        (
            "SELECT * FROM t WHERE a IS NOT TRUE AND b IS FALSE",
            "SELECT * FROM t WHERE a IS NOT TRUE AND b IS FALSE",
        ),
        ("UPDATE t SET a = NULL WHERE id = 1", "UPDATE t SET a = ? WHERE id = ?"),
        (
            "SELECT * FROM t WHERE flag = true AND other = FALSE",
            "SELECT * FROM t WHERE flag = ? AND other = ?",
        ),
        ("INSERT INTO t VALUES (1, 'a', NULL, true)", "INSERT INTO t VALUES (...)"),
        (
            "CREATE TABLE t (name TEXT NOT NULL DEFAULT '')",
            "CREATE TABLE t (name text NOT NULL DEFAULT ?)",
        ),
    ]);
    same("UPDATE t SET a = NULL", "UPDATE t SET a = 5");
    same("SELECT * FROM t WHERE f = true", "SELECT * FROM t WHERE f = false");
    differ("SELECT * FROM t WHERE a IS NULL", "SELECT * FROM t WHERE a IS NOT NULL");
    differ("SELECT * FROM t WHERE a IS NULL", "SELECT * FROM t WHERE a = NULL");
}

#[test]
fn every_kind_of_bind_parameter_is_a_value() {
    let shape = "SELECT * FROM users WHERE id = ?";
    for parameter in ["$1", "?", "?1", ":id", ":1", "@id", "$id", "42", "'x'", "-1.5e3"] {
        assert_eq!(normalize(&format!("SELECT * FROM users WHERE id = {parameter}")), shape);
    }
    normalizes(&[
        ("SELECT :id, :name FROM t WHERE a = :a", "SELECT ?, ? FROM t WHERE a = ?"),
        // A slice's `:` is not a parameter.
        ("SELECT a[lo:hi] FROM t", "SELECT a[lo : hi] FROM t"),
        ("SELECT * FROM t WHERE x = @@version", "SELECT * FROM t WHERE x = @@version"),
    ]);
}

#[test]
fn lists_of_values_are_one_placeholder_whatever_their_length() {
    normalizes(&[
        ("SELECT * FROM t WHERE id IN ($1, $2, $3)", "SELECT * FROM t WHERE id IN (...)"),
        ("SELECT * FROM t WHERE id NOT IN (?)", "SELECT * FROM t WHERE id NOT IN (...)"),
        (
            "SELECT a FROM t WHERE (a, b) IN ((1, 2), (3, 4))",
            "SELECT a FROM t WHERE (a, b) IN (...)",
        ),
        ("SELECT * FROM t WHERE arr = ARRAY[1, 2, 3]", "SELECT * FROM t WHERE arr = ARRAY[...]"),
        ("SELECT ARRAY[[1, 2], [3, 4]] FROM t", "SELECT ARRAY[...] FROM t"),
        // A subquery, an empty list and a list with a column stay as they are.
        (
            "SELECT a FROM t WHERE a IN (SELECT b FROM u WHERE c = 1)",
            "SELECT a FROM t WHERE a IN (SELECT b FROM u WHERE c = ?)",
        ),
        ("SELECT * FROM t WHERE a IN ()", "SELECT * FROM t WHERE a IN ()"),
        ("SELECT * FROM t WHERE a IN (b, 1)", "SELECT * FROM t WHERE a IN (b, ?)"),
        ("SELECT ARRAY[a, 1] FROM t", "SELECT ARRAY[a, ?] FROM t"),
    ]);
    same("SELECT * FROM t WHERE id IN (1)", "SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5, 6)");
    // Other parentheses keep their values: their count is the statement's shape.
    normalizes(&[
        (
            "SELECT * FROM t WHERE (a = 1) AND f(1, 2) = 3",
            "SELECT * FROM t WHERE (a = ?) AND f(?, ?) = ?",
        ),
        ("SELECT * FROM t WHERE w = (-3)", "SELECT * FROM t WHERE w = (?)"),
        ("CREATE TABLE t (price NUMERIC(10, 2))", "CREATE TABLE t (price numeric(?, ?))"),
    ]);
    differ("SELECT round(a, 2) FROM t", "SELECT round(a) FROM t");
}

#[test]
fn multi_row_values_are_one_row() {
    normalizes(&[
        ("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)", "INSERT INTO t (a, b) VALUES (...)"),
        (
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z') ON CONFLICT (a) DO UPDATE SET b = excluded.b",
            "INSERT INTO t (a, b) VALUES (...) ON CONFLICT (a) DO UPDATE SET b = excluded.b",
        ),
        (
            "INSERT INTO t (a, b) VALUES ($1, now()), ($2, now())",
            "INSERT INTO t (a, b) VALUES (?, now())",
        ),
        // Rows of different shapes are all kept.
        ("INSERT INTO t VALUES (1, now()), (2, 3)", "INSERT INTO t VALUES (?, now()), (...)"),
        ("INSERT INTO t DEFAULT VALUES RETURNING id", "INSERT INTO t DEFAULT VALUES RETURNING id"),
    ]);
    same("INSERT INTO t VALUES (1, 2)", "INSERT INTO t VALUES (1, 2), (3, 4), (5, 6)");
}

#[test]
fn signs_casts_and_operators() {
    normalizes(&[
        (
            "SELECT * FROM t WHERE x = -1 AND y = - 2 AND z = a-1",
            "SELECT * FROM t WHERE x = ? AND y = ? AND z = a - ?",
        ),
        ("SELECT * FROM t WHERE x BETWEEN -1 AND +2", "SELECT * FROM t WHERE x BETWEEN ? AND ?"),
        ("SELECT -1, a - -1 FROM t LIMIT -1", "SELECT ?, a - ? FROM t LIMIT ?"),
        (
            "SELECT CASE WHEN a THEN 1 ELSE -1 END - 1 FROM t",
            "SELECT CASE WHEN a THEN ? ELSE ? END - ? FROM t",
        ),
        (
            "SELECT 'x'::text, $1::bigint, a::text[] FROM t",
            "SELECT ?::text, ?::bigint, a::text[] FROM t",
        ),
        (
            "SELECT * FROM t WHERE j->>'k' = 'v' AND j @> '{\"a\":1}'::jsonb",
            "SELECT * FROM t WHERE j ->> ? = ? AND j @> ?::jsonb",
        ),
        ("SELECT * FROM t WHERE a != 1 AND b <> 2", "SELECT * FROM t WHERE a <> ? AND b <> ?"),
        ("SELECT 1.5e10, 0x1F, X'AB', E'\\n', N'n', $$d$$, 1e-3", "SELECT ?, ?, ?, ?, ?, ?, ?"),
    ]);
}

#[test]
fn comments_quoting_and_clauses() {
    normalizes(&[
        (
            "SELECT a -- comment\nFROM t /* block */ WHERE b = 1 -- end",
            "SELECT a FROM t WHERE b = ?",
        ),
        ("/* leading */ SELECT 1;", "SELECT ?"),
        (
            "SELECT \"Weird Col\", `back`, [bracket] FROM \"MyTable\"",
            "SELECT \"Weird Col\", `back`, [bracket] FROM \"MyTable\"",
        ),
        ("SELECT * FROM t LIMIT 10 OFFSET 20", "SELECT * FROM t LIMIT ? OFFSET ?"),
        ("select *\nfrom t\nwhere id=1 ;;", "SELECT * FROM t WHERE id = ?"),
        (
            "DELETE FROM t WHERE created_at < $1 RETURNING *",
            "DELETE FROM t WHERE created_at < ? RETURNING *",
        ),
        ("SELECT * FROM t FOR UPDATE", "SELECT * FROM t FOR UPDATE"),
        ("SELECT DISTINCT ON (a) a FROM t", "SELECT DISTINCT ON (a) a FROM t"),
    ]);
    same("SELECT * FROM t LIMIT 10 OFFSET 20", "SELECT * FROM t LIMIT $1 OFFSET $2");
    differ("SELECT \"A\" FROM t", "SELECT \"a\" FROM t");
    same("SELECT A FROM t", "select a from T");
}

#[test]
fn malformed_statements_fall_back_to_a_plain_normalization() {
    same("SELECT 'unterminated", "SELECT 'also unterminated");
    assert_eq!(normalize("SELECT x FROM t WHERE s = 'open"), "SELECT x FROM t WHERE s = ?");
    assert_eq!(
        normalize("select :id, $1, ?3, -4, count(*) FROM t WHERE a IS NOT NULL AND s = 'open"),
        "SELECT ?, ?, ?, ?, count(*) FROM t WHERE a IS NOT NULL AND s = ?"
    );
    assert_eq!(normalize(""), "");
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC*") {
        let _ = Fingerprint::of(&s);
    }

    #[test]
    fn arbitrary_sql_like_strings_never_panic(
        s in "[a-zA-Z0-9 '\"`$?:@(),.;*/\\-+=<>\\[\\]\n\\\\]{0,64}"
    ) {
        let _ = Fingerprint::of(&s);
    }

    #[test]
    fn integer_literals_never_change_the_fingerprint(a in proptest::num::i64::ANY, b in 0u32..) {
        same(&format!("SELECT * FROM t WHERE id = {a}"), &format!("SELECT * FROM t WHERE id = {b}"));
    }

    #[test]
    fn string_literals_never_change_the_fingerprint(a in "[^']*", b in "\\PC*") {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        same(&format!("SELECT * FROM t WHERE s = {}", quote(&a)), &format!("SELECT * FROM t WHERE s = {}", quote(&b)));
    }

    #[test]
    fn in_lists_and_rows_of_any_length_are_one(n in 1_usize..40, m in 1_usize..40) {
        let list = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        same(&format!("SELECT * FROM t WHERE id IN ({})", list(n)), &format!("SELECT * FROM t WHERE id IN ({})", list(m)));
        let rows = |n: usize| vec!["(?, ?)"; n].join(", ");
        same(&format!("INSERT INTO t (a, b) VALUES {}", rows(n)), &format!("INSERT INTO t (a, b) VALUES {}", rows(m)));
    }

    #[test]
    fn whitespace_and_comments_between_tokens_never_change_the_fingerprint(
        gaps in proptest::collection::vec(prop_oneof![
            Just(" "), Just("\n  "), Just("\t"), Just(" /* c */ "), Just(" -- c\n"),
        ], 24),
    ) {
        let tokens = ["SELECT", "count", "(", "*", ")", "FROM", "t", "WHERE", "a", "=", "-", "1",
            "AND", "b", "IN", "(", "1", ",", "2", ")", "AND", "c", "IS", "NOT", "NULL"];
        let mut spaced = String::new();
        for (token, gap) in tokens.iter().zip(gaps.iter().chain(std::iter::repeat(&" "))) {
            spaced.push_str(token);
            spaced.push_str(gap);
        }
        prop_assert_eq!(
            normalize(&spaced),
            "SELECT count(*) FROM t WHERE a = ? AND b IN (...) AND c IS NOT NULL"
        );
    }
}

#[test]
fn a_colon_before_anything_but_a_name_or_number_is_punctuation() {
    // A quoted identifier or a space after `:` is not a parameter name: the `:` stays, and
    // what follows keeps its own normalization.
    normalizes(&[
        ("SELECT * FROM t WHERE a = :\"q\"", "SELECT * FROM t WHERE a = : \"q\""),
        ("SELECT * FROM t WHERE a = : 5", "SELECT * FROM t WHERE a = : ?"),
    ]);
}

/// The character-level fallback makes the tokenizer's choices: on statements the tokenizer
/// reads, both give the same text (the tokenizer's is the known answer).
#[test]
fn the_fallback_normalizes_well_formed_statements_as_the_tokenizer_does() {
    let by_fallback =
        |sql: &str| super::render::render(&super::shape::collapse(super::lex::fallback(sql)));
    for sql in [
        "SELECT a, b FROM t WHERE x = 1 -- trailing comment\nAND y = 'it''s'",
        "/* lead */ SELECT * FROM t /* mid */ WHERE id = ?1 AND n = $1 AND m = :name AND o = @p",
        "SELECT a FROM t WHERE s = 'a''b''' AND z = 3.25 AND w = ?",
        "select count(*) from orders o where o.total > 10.5 and o.id in (1, 2, 3)",
        "UPDATE t SET v = :v WHERE k = :k",
        "SELECT a[lo:hi] FROM t",
        "SELECT x FROM t WHERE a = 1 /* tail */",
        "SELECT 1 /* 2*3 and 4/5 */ FROM t",
        "SELECT a FROM t WHERE b IN (?, ?, ?) AND c = ?",
    ] {
        assert_eq!(by_fallback(sql), normalize(sql), "{sql}");
    }
}

/// A qualified table's column list is not a call (even far into the statement), and a
/// parenthesised value after a comma is a row only after a VALUES row.
#[test]
fn qualified_tables_and_parenthesised_arguments_keep_their_shape() {
    normalizes(&[
        (
            "WITH x AS (SELECT 1) INSERT INTO app.users (id) SELECT id FROM x",
            "WITH x AS (SELECT ?) INSERT INTO app.users (id) SELECT id FROM x",
        ),
        ("SELECT f(1, (2)) FROM t", "SELECT f(?, (?)) FROM t"),
        (
            "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4)) AND g(1, (2, 3))",
            "SELECT * FROM t WHERE (a, b) IN (...) AND g(?, (?, ?))",
        ),
    ]);
}
