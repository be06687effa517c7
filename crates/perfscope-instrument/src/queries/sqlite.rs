//! Index hints on SQLite: `EXPLAIN QUERY PLAN` of the slowest fingerprints' statements, read
//! row by row. A full scan of a table the statement filters on (`SCAN t`, or `SCAN TABLE t` in
//! SQLite before 3.36) is a hint to index the filtered columns; `SEARCH t USING INDEX` is not;
//! `USE TEMP B-TREE FOR ORDER BY` / `GROUP BY` is a hint to index the sort columns. The
//! columns come from the statement's `WHERE`, `ORDER BY` and `GROUP BY` through `sqlparser`'s
//! AST (best effort: plain and `table.column` references in comparisons, `IN`, `BETWEEN`,
//! `LIKE`, `IS NULL`).

use std::collections::HashMap;

use sqlparser::ast::{
    Expr, FromTable, GroupByExpr, OrderByKind, SetExpr, Statement, TableFactor, TableWithJoins,
};
use sqlparser::dialect::{Dialect, GenericDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::QueryCollector;
use super::usage::{IndexUsage, single_statement, sqlite_plan};

/// One hint: which index, on what evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexHint {
    /// The fingerprint label of the statement.
    pub fingerprint: String,
    /// The statement that was explained.
    pub statement: String,
    /// The table.
    pub table: String,
    /// The columns to index, in order.
    pub columns: Vec<String>,
    /// The suggestion, e.g. `CREATE INDEX ON orders(customer_id)`.
    pub suggestion: String,
    /// Why: the plan row and what the statement does with the columns.
    pub evidence: String,
}

/// A statement [`QueryCollector::index_hints`] did not explain, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The fingerprint label.
    pub fingerprint: String,
    /// Why (not a SELECT/UPDATE/DELETE, parameters bound as NULL failed, SQLite's error).
    pub reason: String,
}

/// What [`QueryCollector::index_hints`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexAdvice {
    /// The hints, the slowest fingerprint's first.
    pub hints: Vec<IndexHint>,
    /// The fingerprints not explained.
    pub skipped: Vec<Skipped>,
    /// The fingerprints explained without a hint.
    pub explained: usize,
    /// Every index of the tables the recorded statements touch (or that a plan uses), by
    /// table and name: used by which fingerprints' plans, or never used (see
    /// [`IndexUsage`]). Empty when the database has none or no plan could be read.
    pub indexes: Vec<IndexUsage>,
}

/// The fingerprints explained, the most total time first.
const SLOWEST: usize = 10;
/// How the collector's own statements start (the layer does not count them).
pub(super) const MARK: &str = "/* perfscope */ ";

impl QueryCollector {
    /// The fingerprints to explain: the [`SLOWEST`] SELECT, UPDATE and DELETE fingerprints by
    /// total time, and why others among the slowest are not.
    pub(super) fn explain_candidates(&self) -> (Vec<super::FingerprintStats>, Vec<Skipped>) {
        let (mut candidates, mut skipped) = (Vec::new(), Vec::new());
        let fingerprints = self.fingerprints();
        for (rank, stats) in
            fingerprints.into_iter().filter(|s| !s.normalized.is_empty()).enumerate()
        {
            if candidates.len() == SLOWEST {
                break;
            }
            let skip = |reason: String| Skipped { fingerprint: stats.label.clone(), reason };
            let verb = stats.normalized.split_whitespace().next().unwrap_or("");
            if !matches!(verb, "SELECT" | "UPDATE" | "DELETE") {
                if rank < SLOWEST {
                    skipped.push(skip(format!("{verb} statements are not explained")));
                }
                continue;
            }
            if stats.example.ends_with('…') {
                skipped.push(skip("the statement was cut (longer than kept)".into()));
                continue;
            }
            if !single_statement(&stats.example, &GenericDialect {}) {
                skipped.push(skip("several statements in one are not explained".into()));
                continue;
            }
            candidates.push(stats);
        }
        (candidates, skipped)
    }

    /// Runs `EXPLAIN QUERY PLAN` on `pool` for the statements of the 10 fingerprints with the
    /// most total time (SELECT, UPDATE and DELETE only) and reads the plans for index hints.
    /// A statement's bind parameters are left unbound, which SQLite reads as NULL: the plan
    /// is that of the statement's shape.
    ///
    /// The hints are also the collector's events from then on (kind `Recommendation`, labels
    /// `fingerprint`, `table`, `index`; see the [module](super) documentation), so every
    /// snapshot, and the report, has them; they replace the earlier hints of the statements
    /// explained (an index created since is no longer suggested), and the earlier hints of
    /// statements not explained this time stay.
    ///
    /// It also reports **index usage** ([`IndexAdvice::indexes`]): every index of the tables
    /// the recorded statements touch, and which fingerprints' plans use it, from the plans of
    /// every fingerprint that reads or writes (not only the ten slowest). Each index is an
    /// [`INDEX_USED`](super::INDEX_USED) figure (1 used, 0 never, labels `table` and
    /// `index`), and each never-used index that does not enforce uniqueness is a
    /// `Recommendation` event (subject [`INDEX_USED`](super::INDEX_USED), labels `table` and
    /// `index`, the evidence as the message); both replace those of the previous call.
    pub async fn index_hints(&self, pool: &sqlx::SqlitePool) -> IndexAdvice {
        let (candidates, skipped) = self.explain_candidates();
        let mut advice = IndexAdvice { skipped, ..IndexAdvice::default() };
        let mut explained = Vec::new();
        let mut plans = HashMap::new();
        for stats in &candidates {
            let details = match sqlite_plan(pool, &stats.example).await {
                Ok(details) => details,
                Err(e) => {
                    let reason = format!("EXPLAIN QUERY PLAN failed: {e}");
                    advice.skipped.push(Skipped { fingerprint: stats.label.clone(), reason });
                    continue;
                }
            };
            explained.push(stats.label.clone());
            let before = advice.hints.len();
            hints_from_plan(&stats.label, &stats.example, &details, &mut advice.hints);
            if advice.hints.len() == before {
                advice.explained += 1;
            }
            plans.insert(stats.label.clone(), details);
        }
        advice.indexes = self.index_usage(pool, &plans).await;
        self.publish(&explained, &advice.hints, &advice.indexes);
        advice
    }
}

/// What the statement does with which columns.
#[derive(Debug, Default)]
pub(super) struct Shape {
    /// `(table name, alias)` of every table read.
    tables: Vec<(String, Option<String>)>,
    /// `(qualifier, column)` filtered on in WHERE.
    pub(super) filtered: Vec<(Option<String>, String)>,
    ordered: Vec<(Option<String>, String)>,
    grouped: Vec<(Option<String>, String)>,
}

impl Shape {
    pub(super) fn of(sql: &str, dialect: &dyn Dialect) -> Shape {
        let mut shape = Shape::default();
        let Ok(statements) = Parser::parse_sql(dialect, sql) else { return shape };
        let Some(statement) = statements.first() else { return shape };
        match statement {
            Statement::Query(query) => {
                if let SetExpr::Select(select) = query.body.as_ref() {
                    select.from.iter().for_each(|t| shape.add_tables(t));
                    if let Some(selection) = &select.selection {
                        columns(selection, &mut shape.filtered);
                    }
                    if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
                        exprs.iter().for_each(|e| columns(e, &mut shape.grouped));
                    }
                }
                if let Some(order_by) = &query.order_by
                    && let OrderByKind::Expressions(exprs) = &order_by.kind
                {
                    exprs.iter().for_each(|e| columns(&e.expr, &mut shape.ordered));
                }
            }
            Statement::Update { table, selection, .. } => {
                shape.add_tables(table);
                if let Some(selection) = selection {
                    columns(selection, &mut shape.filtered);
                }
            }
            Statement::Delete(delete) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                from.iter().for_each(|t| shape.add_tables(t));
                if let Some(selection) = &delete.selection {
                    columns(selection, &mut shape.filtered);
                }
            }
            _ => {}
        }
        shape
    }

    fn add_tables(&mut self, table: &TableWithJoins) {
        for factor in
            std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation))
        {
            if let TableFactor::Table { name, alias, .. } = factor {
                let name = name.0.last().map(|p| unquote(&p.to_string())).unwrap_or_default();
                self.tables.push((name, alias.as_ref().map(|a| a.name.value.clone())));
            }
        }
    }

    /// The columns of `list` that belong to the table SQLite calls `plan_name` (its name or
    /// alias): qualified by it, or unqualified when the statement reads one table.
    pub(super) fn columns_of(
        &self,
        plan_name: &str,
        list: &[(Option<String>, String)],
    ) -> Option<(String, Vec<String>)> {
        let (table, alias) = self.tables.iter().find(|(name, alias)| {
            name.eq_ignore_ascii_case(plan_name)
                || alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(plan_name))
        })?;
        let mut out: Vec<String> = Vec::new();
        for (qualifier, column) in list {
            let ours = match qualifier {
                Some(q) => {
                    q.eq_ignore_ascii_case(table)
                        || alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(q))
                }
                None => self.tables.len() == 1,
            };
            if ours && !out.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                out.push(column.clone());
            }
        }
        (!out.is_empty()).then(|| (table.clone(), out))
    }
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']')).to_string()
}

/// Column references in the filtering parts of `expr` (comparisons, IN, BETWEEN, LIKE, IS NULL,
/// through AND / OR / NOT and parentheses).
fn columns(expr: &Expr, out: &mut Vec<(Option<String>, String)>) {
    match expr {
        Expr::Identifier(ident) => out.push((None, ident.value.clone())),
        Expr::CompoundIdentifier(parts) => {
            if let [.., qualifier, column] = parts.as_slice() {
                out.push((Some(qualifier.value.clone()), column.value.clone()));
            }
        }
        Expr::BinaryOp { left, right, .. } => {
            columns(left, out);
            columns(right, out);
        }
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::IsNull(inner)
        | Expr::IsNotNull(inner)
        | Expr::InList { expr: inner, .. }
        | Expr::InSubquery { expr: inner, .. }
        | Expr::Between { expr: inner, .. }
        | Expr::Like { expr: inner, .. }
        | Expr::ILike { expr: inner, .. } => columns(inner, out),
        _ => {}
    }
}

/// Adds a hint unless the same one is there.
pub(super) fn push_hint(
    out: &mut Vec<IndexHint>,
    fingerprint: &str,
    statement: &str,
    table: String,
    columns: Vec<String>,
    evidence: String,
) {
    if out.iter().any(|h| h.fingerprint == fingerprint && h.table == table && h.columns == columns)
    {
        return;
    }
    let suggestion = format!("CREATE INDEX ON {table}({})", columns.join(", "));
    out.push(IndexHint {
        fingerprint: fingerprint.to_string(),
        statement: statement.to_string(),
        table,
        columns,
        suggestion,
        evidence,
    });
}

/// Hints from one statement's plan rows (`detail` column of `EXPLAIN QUERY PLAN`).
fn hints_from_plan(
    fingerprint: &str,
    statement: &str,
    details: &[String],
    out: &mut Vec<IndexHint>,
) {
    let shape = Shape::of(statement, &SQLiteDialect {});
    let mut hint = |table: String, columns: Vec<String>, why: String| {
        push_hint(out, fingerprint, statement, table, columns, why);
    };
    for detail in details {
        let words: Vec<&str> = detail.split_whitespace().collect();
        match words.as_slice() {
            // `SCAN t`, `SCAN TABLE t`, `SCAN t AS a`; a scan `USING ... INDEX` reads an index.
            ["SCAN", rest @ ..] if !rest.contains(&"USING") => {
                let name = match rest {
                    ["TABLE", name, ..] | [name, ..] => *name,
                    [] => continue,
                };
                let plan_name = match rest {
                    [.., "AS", alias] => *alias,
                    _ => name,
                };
                if let Some((table, cols)) = shape
                    .columns_of(plan_name, &shape.filtered)
                    .or_else(|| shape.columns_of(name, &shape.filtered))
                {
                    let why = format!(
                        "EXPLAIN QUERY PLAN: `{detail}` (every row of {table} read) while the \
                         statement filters on {}",
                        cols.join(", ")
                    );
                    hint(table, cols, why);
                }
            }
            ["USE", "TEMP", "B-TREE", "FOR", .., kind @ ("ORDER" | "GROUP"), "BY"]
            | ["USE", "TEMP", "B-TREE", "FOR", kind @ ("ORDER" | "GROUP"), "BY", ..] => {
                let list = if *kind == "ORDER" { &shape.ordered } else { &shape.grouped };
                let found = shape.tables.iter().find_map(|(name, _)| shape.columns_of(name, list));
                if let Some((table, cols)) = found {
                    let why = format!(
                        "EXPLAIN QUERY PLAN: `{detail}` (rows sorted in a temporary B-tree) for \
                         {kind} BY {}",
                        cols.join(", ")
                    );
                    hint(table, cols, why);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(sql: &str, plan: &[&str]) -> Vec<String> {
        let details: Vec<String> = plan.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        hints_from_plan("f", sql, &details, &mut out);
        out.into_iter().map(|h| h.suggestion).collect()
    }

    #[test]
    fn plans_old_and_new_wording() {
        let sql = "SELECT * FROM orders WHERE customer_id = ? AND status = 'x'";
        let want = ["CREATE INDEX ON orders(customer_id, status)"];
        assert_eq!(hints(sql, &["SCAN orders"]), want);
        assert_eq!(hints(sql, &["SCAN TABLE orders"]), want);
        assert!(hints(sql, &["SEARCH orders USING INDEX i (customer_id=?)"]).is_empty());
        assert!(hints(sql, &["SCAN orders USING COVERING INDEX i"]).is_empty());
        assert!(hints("SELECT * FROM orders", &["SCAN orders"]).is_empty());
        assert_eq!(
            hints("SELECT o.id FROM orders AS o WHERE o.total > 5", &["SCAN o"]),
            ["CREATE INDEX ON orders(total)"]
        );
        assert_eq!(
            hints(
                "SELECT * FROM t WHERE a = 1 ORDER BY b",
                &["SEARCH t USING INDEX ia (a=?)", "USE TEMP B-TREE FOR ORDER BY"]
            ),
            ["CREATE INDEX ON t(b)"]
        );
        assert_eq!(
            hints("DELETE FROM t WHERE k BETWEEN 1 AND 2", &["SCAN t"]),
            ["CREATE INDEX ON t(k)"]
        );
        assert_eq!(
            hints("UPDATE t SET v = 1 WHERE k IN (1, 2)", &["SCAN t"]),
            ["CREATE INDEX ON t(k)"]
        );
    }

    #[test]
    fn a_column_is_hinted_once_and_only_for_its_own_table() {
        assert_eq!(
            hints("SELECT * FROM t WHERE a = 1 AND a < 5", &["SCAN t"]),
            ["CREATE INDEX ON t(a)"]
        );
        assert_eq!(
            hints("SELECT * FROM t JOIN u ON t.id = u.tid WHERE t.a = 1 AND u.b = 2", &["SCAN t"]),
            ["CREATE INDEX ON t(a)"]
        );
    }

    /// In a self-join the plan names the alias it scans: the hint is for that alias's filter.
    #[test]
    fn a_scan_under_an_alias_takes_that_alias_s_columns() {
        let sql = "SELECT * FROM t AS x JOIN t AS y ON x.id = y.pid WHERE x.a = 1 AND y.b = 2";
        assert_eq!(hints(sql, &["SCAN t AS y"]), ["CREATE INDEX ON t(b)"]);
        assert_eq!(hints(sql, &["SCAN t AS x"]), ["CREATE INDEX ON t(a)"]);
    }

    #[test]
    fn the_same_hint_is_pushed_once() {
        let mut out = Vec::new();
        let push = |out: &mut Vec<IndexHint>, f: &str, t: &str, c: &str| {
            push_hint(out, f, "s", t.into(), vec![c.into()], "why".into());
        };
        push(&mut out, "f", "t", "a");
        push(&mut out, "f", "t", "a");
        assert_eq!(out.len(), 1);
        // Another fingerprint, table or column is another hint.
        push(&mut out, "g", "t", "a");
        push(&mut out, "f", "u", "a");
        push(&mut out, "f", "t", "b");
        let keys: Vec<(&str, &str, &str)> = out
            .iter()
            .map(|h| (h.fingerprint.as_str(), h.table.as_str(), h.columns[0].as_str()))
            .collect();
        assert_eq!(keys, [("f", "t", "a"), ("g", "t", "a"), ("f", "u", "a"), ("f", "t", "b")]);
    }
}
