//! Index usage: every index of the tables the recorded statements touch, and which statement
//! fingerprints' plans use it. The indexes come from the database's catalog (SQLite's
//! `sqlite_master` and `pragma_index_list`; PostgreSQL's `pg_stat_user_indexes`, which also
//! counts each index's scans), the tables from the statements themselves (`sqlparser`: FROM
//! and JOIN, `INSERT INTO`, `UPDATE`, `DELETE FROM`, through CTEs, set operations and derived
//! tables), and the use from the plans of every fingerprint that reads or writes (SQLite's
//! `USING [COVERING] INDEX x` and `USING PRIMARY KEY`; PostgreSQL's `Index Name` of index,
//! index-only and bitmap index scans and its conflict arbiter indexes). An index no plan uses
//! (and, on PostgreSQL, that was never scanned) is never used: unless it enforces uniqueness,
//! a recommendation to drop it, since every row written updates it.

use std::collections::HashMap;

use sqlparser::ast::{
    FromTable, ObjectName, Query, SetExpr, Statement, TableFactor, TableObject, TableWithJoins,
    UpdateTableFromKind,
};
use sqlparser::dialect::{Dialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use sqlx::Row;

use super::sqlite::MARK;
use super::{FingerprintStats, QueryCollector};

/// Indexes followed one by one as [`INDEX_USED`](super::INDEX_USED) figures; past them, one
/// figure with `table` and `index` [`OTHER`](super::OTHER), 1 only if every one of them is
/// used.
pub const MAX_INDEXES: usize = 100;

/// One index of a table the workload's statements touch, and what uses it (see
/// [`IndexAdvice::indexes`](super::IndexAdvice::indexes)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexUsage {
    /// The table.
    pub table: String,
    /// The index's name, as the database has it.
    pub index: String,
    /// Whether it enforces uniqueness (a UNIQUE or PRIMARY KEY index): never recommended for
    /// removal, used or not.
    pub unique: bool,
    /// The fingerprint labels of the statements whose plans use it.
    pub used_by: Vec<String>,
    /// PostgreSQL's count of its scans since its statistics were reset
    /// (`pg_stat_user_indexes.idx_scan`); `None` on SQLite.
    pub scans: Option<u64>,
    /// Why it is called used or never used: the plans read, the scans, the statements that
    /// write its table.
    pub evidence: String,
}

impl IndexUsage {
    /// Whether a plan uses it or, on PostgreSQL, it was scanned.
    pub fn used(&self) -> bool {
        !self.used_by.is_empty() || self.scans.is_some_and(|n| n > 0)
    }

    /// Whether it is a recommendation: never used and not enforcing uniqueness.
    pub fn droppable(&self) -> bool {
        !self.used() && !self.unique
    }
}

/// Verbs whose plans are read for index usage.
const EXPLAINED: [&str; 6] = ["SELECT", "WITH", "UPDATE", "DELETE", "INSERT", "REPLACE"];
/// Verbs of statements that write (every index of the table they write is updated).
const WRITES: [&str; 4] = ["INSERT", "UPDATE", "DELETE", "REPLACE"];
/// SQLite's catalog of indexes: table, index, unique, origin (`pk` for a primary key's).
const LIST_SQLITE: &str = "/* perfscope */ SELECT m.tbl_name, m.name, l.\"unique\", l.origin \
     FROM sqlite_master AS m JOIN pragma_index_list(m.tbl_name) AS l ON l.name = m.name \
     WHERE m.type = 'index'";

/// An index as the database's catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    pub(super) table: String,
    pub(super) index: String,
    pub(super) unique: bool,
    /// A primary key's index (SQLite `WITHOUT ROWID` plans name it `PRIMARY KEY`).
    pub(super) primary: bool,
    pub(super) scans: Option<u64>,
}

/// One recorded fingerprint, as index usage needs it.
struct Recorded {
    stats: FingerprintStats,
    verb: String,
    tables: Vec<String>,
    single: bool,
}

impl Recorded {
    fn explainable(&self) -> bool {
        EXPLAINED.contains(&self.verb.as_str()) && self.single && !self.stats.example.ends_with('…')
    }
}

/// Whether `sql` is one statement (a trailing `;` allowed). Several are never explained:
/// `EXPLAIN` (or `PREPARE`) would cover the first, and the database would run the others.
/// Text the tokenizer cannot read is not explained either.
pub(super) fn single_statement(sql: &str, dialect: &dyn Dialect) -> bool {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize() else { return false };
    let mut code = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_)));
    // Every `;` must be followed by nothing but more `;`.
    code.by_ref().find(|t| **t == Token::SemiColon);
    code.all(|t| *t == Token::SemiColon)
}

/// What the workload ran: its fingerprints and the tables they touch.
pub(super) struct Workload {
    recorded: Vec<Recorded>,
    /// Statements were counted under the fingerprint cap's `<other>` (never explained).
    overflowed: bool,
}

impl Workload {
    pub(super) fn of(collector: &QueryCollector, dialect: &dyn Dialect) -> Workload {
        let mut overflowed = false;
        let mut recorded = Vec::new();
        for stats in collector.fingerprints() {
            if stats.normalized.is_empty() {
                overflowed |= stats.calls > 0;
                continue;
            }
            let verb = stats.normalized.split_whitespace().next().unwrap_or("");
            let verb = verb.to_ascii_uppercase();
            let tables = tables_of(&stats.example, dialect);
            let single = single_statement(&stats.example, dialect);
            recorded.push(Recorded { stats, verb, tables, single });
        }
        Workload { recorded, overflowed }
    }

    fn touches(&self, table: &str) -> bool {
        self.recorded.iter().any(|r| r.tables.iter().any(|t| t.eq_ignore_ascii_case(table)))
    }

    /// The fingerprints whose plans are read: those that read or write, one statement each,
    /// with the whole statement kept.
    pub(super) fn explainable(&self) -> impl Iterator<Item = &FingerprintStats> {
        self.recorded.iter().filter(|r| r.explainable()).map(|r| &r.stats)
    }

    /// The usage of the `listed` indexes of touched tables (or used by a plan) from the plans
    /// `read` (fingerprint label, positions in `listed` its plan uses); `failed` plans could
    /// not be read; `how` says how plans were read. Nothing when no plan was read: no claim
    /// without evidence.
    pub(super) fn usage(
        &self,
        listed: &[Listed],
        read: &[(String, Vec<usize>)],
        failed: usize,
        how: &str,
    ) -> Vec<IndexUsage> {
        if read.is_empty() {
            return Vec::new();
        }
        let cut = self
            .recorded
            .iter()
            .filter(|r| EXPLAINED.contains(&r.verb.as_str()) && !r.explainable())
            .count();
        let mut out: Vec<IndexUsage> = listed
            .iter()
            .enumerate()
            .filter_map(|(at, index)| {
                let used_by: Vec<String> = read
                    .iter()
                    .filter(|(_, uses)| uses.contains(&at))
                    .map(|(label, _)| label.clone())
                    .collect();
                if used_by.is_empty() && !self.touches(&index.table) {
                    return None;
                }
                let evidence = self.evidence(index, used_by.len(), read.len(), failed + cut, how);
                Some(IndexUsage {
                    table: index.table.clone(),
                    index: index.index.clone(),
                    unique: index.unique,
                    used_by,
                    scans: index.scans,
                    evidence,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.table, &a.index).cmp(&(&b.table, &b.index)));
        out
    }

    fn evidence(
        &self,
        index: &Listed,
        users: usize,
        read: usize,
        gaps: usize,
        how: &str,
    ) -> String {
        let scans = |n: u64| format!("pg_stat_user_indexes counts {n} scans of it");
        let read = fingerprints(read);
        let mut out = match (users, index.scans) {
            (0, Some(n)) if n > 0 => format!(
                "no plan ({how}) of the {read} explained uses it, but {}: statements not seen \
                 here use it",
                scans(n)
            ),
            (0, _) => format!("no plan ({how}) of the {read} explained uses it"),
            (k, _) => format!("used by the plans ({how}) of {k} of the {read} explained"),
        };
        if let Some(n) = index.scans.filter(|&n| users > 0 || n == 0) {
            out.push_str(&format!("; {}", scans(n)));
        }
        let writers: Vec<&Recorded> = self
            .recorded
            .iter()
            .filter(|r| WRITES.contains(&r.verb.as_str()))
            .filter(|r| r.tables.first().is_some_and(|t| t.eq_ignore_ascii_case(&index.table)))
            .collect();
        if !writers.is_empty() {
            let calls: u64 = writers.iter().map(|r| r.stats.calls).sum();
            out.push_str(&format!(
                "; {} is written by {} ({calls} statement{} run), which maintain it",
                index.table,
                fingerprints(writers.len()),
                if calls == 1 { "" } else { "s" },
            ));
        }
        if gaps > 0 {
            out.push_str(&format!("; {} could not be explained", fingerprints(gaps)));
        }
        if self.overflowed {
            out.push_str("; statements past the fingerprint cap were not explained");
        }
        out
    }
}

/// `1 statement fingerprint`, `2 statement fingerprints`.
fn fingerprints(n: usize) -> String {
    format!("{n} statement fingerprint{}", if n == 1 { "" } else { "s" })
}

/// The tables `sql` names (FROM and JOIN, `INSERT INTO`, `UPDATE`, `DELETE FROM`, through
/// CTEs, set operations and derived tables), unquoted, each once; the written table first.
pub(super) fn tables_of(sql: &str, dialect: &dyn Dialect) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(statements) = Parser::parse_sql(dialect, sql) else { return out };
    for statement in &statements {
        match statement {
            Statement::Query(query) => query_tables(query, &mut out),
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    push(name, &mut out);
                }
                if let Some(source) = &insert.source {
                    query_tables(source, &mut out);
                }
            }
            Statement::Update { table, from, .. } => {
                joined_tables(table, &mut out);
                if let Some(
                    UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
                ) = from
                {
                    from.iter().for_each(|t| joined_tables(t, &mut out));
                }
            }
            Statement::Delete(delete) => {
                delete.tables.iter().for_each(|name| push(name, &mut out));
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                from.iter()
                    .chain(delete.using.iter().flatten())
                    .for_each(|t| joined_tables(t, &mut out));
            }
            _ => {}
        }
    }
    out
}

fn push(name: &ObjectName, out: &mut Vec<String>) {
    let Some(table) = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()) else {
        return;
    };
    if !out.iter().any(|t| t.eq_ignore_ascii_case(&table)) {
        out.push(table);
    }
}

fn query_tables(query: &Query, out: &mut Vec<String>) {
    for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
        query_tables(&cte.query, out);
    }
    set_tables(&query.body, out);
}

fn set_tables(body: &SetExpr, out: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => select.from.iter().for_each(|t| joined_tables(t, out)),
        SetExpr::Query(query) => query_tables(query, out),
        SetExpr::SetOperation { left, right, .. } => {
            set_tables(left, out);
            set_tables(right, out);
        }
        _ => {}
    }
}

fn joined_tables(table: &TableWithJoins, out: &mut Vec<String>) {
    for factor in std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation)) {
        match factor {
            TableFactor::Table { name, .. } => push(name, out),
            TableFactor::Derived { subquery, .. } => query_tables(subquery, out),
            TableFactor::NestedJoin { table_with_joins, .. } => {
                joined_tables(table_with_joins, out)
            }
            _ => {}
        }
    }
}

/// The positions in `listed` of the indexes SQLite's plan rows (`detail`) use: after `USING
/// INDEX ` or `USING COVERING INDEX `, the longest listed name followed by a space or the end
/// (names may hold spaces and quotes, which the plan prints as they are); `USING PRIMARY KEY`
/// (a `WITHOUT ROWID` table) is the primary key's index of the table the row names.
fn sqlite_uses(details: &[String], listed: &[Listed]) -> Vec<usize> {
    let mut longest_first: Vec<usize> = (0..listed.len()).collect();
    longest_first.sort_by_key(|&i| std::cmp::Reverse(listed[i].index.len()));
    let mut out = Vec::new();
    let mut add = |i: usize| {
        if !out.contains(&i) {
            out.push(i);
        }
    };
    for detail in details {
        for marker in ["USING INDEX ", "USING COVERING INDEX "] {
            for (at, _) in detail.match_indices(marker) {
                let rest = &detail[at + marker.len()..];
                let named = longest_first.iter().copied().find(|&i| {
                    let name = listed[i].index.as_str();
                    rest.strip_prefix(name)
                        .is_some_and(|after| after.is_empty() || after.starts_with(' '))
                });
                named.into_iter().for_each(&mut add);
            }
        }
        if detail.contains("USING PRIMARY KEY") {
            let words: Vec<&str> = detail.split_whitespace().collect();
            let table = match words.as_slice() {
                [_, "TABLE", table, ..] | [_, table, ..] => *table,
                _ => continue,
            };
            let primary =
                listed.iter().position(|l| l.primary && l.table.eq_ignore_ascii_case(table));
            primary.into_iter().for_each(&mut add);
        }
    }
    out
}

impl QueryCollector {
    /// Index usage on SQLite: the catalog's indexes, the plans of every explainable
    /// fingerprint (those in `plans`, already read, are not explained again).
    pub(super) async fn index_usage(
        &self,
        pool: &sqlx::SqlitePool,
        plans: &HashMap<String, Vec<String>>,
    ) -> Vec<IndexUsage> {
        let Ok(rows) = sqlx::query(LIST_SQLITE).fetch_all(pool).await else { return Vec::new() };
        let listed: Vec<Listed> = rows
            .iter()
            .filter_map(|row| {
                Some(Listed {
                    table: row.try_get(0).ok()?,
                    index: row.try_get(1).ok()?,
                    unique: row.try_get::<i64, _>(2).ok()? != 0,
                    primary: row.try_get::<String, _>(3).ok()? == "pk",
                    scans: None,
                })
            })
            .collect();
        if listed.is_empty() {
            return Vec::new();
        }
        let workload = Workload::of(self, &SQLiteDialect {});
        let (mut read, mut failed) = (Vec::new(), 0);
        for stats in workload.explainable() {
            let details = match plans.get(&stats.label) {
                Some(details) => details.clone(),
                None => match sqlite_plan(pool, &stats.example).await {
                    Ok(details) => details,
                    Err(_) => {
                        failed += 1;
                        continue;
                    }
                },
            };
            read.push((stats.label.clone(), sqlite_uses(&details, &listed)));
        }
        workload.usage(&listed, &read, failed, "EXPLAIN QUERY PLAN")
    }
}

/// The `detail` column of `EXPLAIN QUERY PLAN` for `statement`.
pub(super) async fn sqlite_plan(
    pool: &sqlx::SqlitePool,
    statement: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("{MARK}EXPLAIN QUERY PLAN {statement}")).fetch_all(pool).await?;
    Ok(rows.iter().filter_map(|r| r.try_get::<String, _>("detail").ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(table: &str, index: &str) -> Listed {
        Listed {
            table: table.into(),
            index: index.into(),
            unique: false,
            primary: false,
            scans: None,
        }
    }

    /// A collector that ran an INSERT into `t` (3 times), a SELECT on `t`, and one on `u`.
    fn workload() -> Workload {
        let collector = QueryCollector::new();
        let record = |statement: &str| {
            collector.record(&super::super::QueryRecord { statement, ..Default::default() });
        };
        (0..3).for_each(|_| record("INSERT INTO t (a) VALUES (1)"));
        record("SELECT * FROM t WHERE a = 1");
        record("SELECT * FROM u WHERE b = 1");
        Workload::of(&collector, &SQLiteDialect {})
    }

    #[test]
    fn no_plan_read_no_claim_and_only_touched_or_used_indexes() {
        let w = workload();
        assert_eq!(w.explainable().count(), 3);
        let all = [
            listed("t", "t_a"),
            listed("other", "o_x"),
            listed("other", "o_y"),
            listed("u", "u_b"),
        ];
        assert!(w.usage(&all, &[], 3, "P").is_empty(), "no plan read, nothing claimed");
        let read = [("f1".to_string(), vec![0]), ("f2".to_string(), vec![1])];
        let usage = w.usage(&all, &read, 1, "P");
        let got: Vec<(&str, bool)> = usage.iter().map(|u| (u.index.as_str(), u.used())).collect();
        // `o_y` is on a table no statement touches and no plan uses: not reported.
        assert_eq!(got, [("o_x", true), ("t_a", true), ("u_b", false)]);
        assert_eq!(usage[0].used_by, ["f2"]);
        assert_eq!(
            usage[2].evidence,
            "no plan (P) of the 2 statement fingerprints explained uses it; 1 statement \
             fingerprint could not be explained"
        );
        assert_eq!(
            usage[1].evidence,
            "used by the plans (P) of 1 of the 2 statement fingerprints explained; t is written \
             by 1 statement fingerprint (3 statements run), which maintain it; 1 statement \
             fingerprint could not be explained"
        );
    }

    #[test]
    fn unique_indexes_and_scanned_ones_are_no_recommendation() {
        let w = workload();
        let all = [
            Listed { unique: true, ..listed("t", "t_pk") },
            Listed { scans: Some(7), ..listed("t", "t_scanned") },
            Listed { scans: Some(0), ..listed("t", "t_never") },
        ];
        let usage = w.usage(&all, &[("f".to_string(), Vec::new())], 0, "P");
        let got: Vec<(&str, bool, bool)> =
            usage.iter().map(|u| (u.index.as_str(), u.used(), u.droppable())).collect();
        assert_eq!(
            got,
            [("t_never", false, true), ("t_pk", false, false), ("t_scanned", true, false)]
        );
        assert!(usage[0].evidence.starts_with(
            "no plan (P) of the 1 statement fingerprint explained uses it; pg_stat_user_indexes \
             counts 0 scans of it;"
        ));
        assert!(usage[2].evidence.contains("but pg_stat_user_indexes counts 7 scans of it"));
    }

    #[test]
    fn several_statements_in_one_are_never_explained() {
        let d = SQLiteDialect {};
        assert!(single_statement("SELECT 1", &d));
        assert!(single_statement("SELECT ';' FROM t -- ; \n;  ;", &d));
        assert!(!single_statement("SELECT 1; DELETE FROM t", &d));
        assert!(!single_statement("SELECT 1;\n/* c */ DROP TABLE t;", &d));
        assert!(!single_statement("SELECT 'unterminated", &d));
    }

    #[test]
    fn tables_are_found_in_every_kind_of_statement() {
        let d = SQLiteDialect {};
        assert_eq!(tables_of("SELECT * FROM a JOIN b ON a.id = b.id, c", &d), ["a", "b", "c"]);
        assert_eq!(tables_of("INSERT INTO main.q (x) SELECT y FROM r", &d), ["q", "r"]);
        assert_eq!(tables_of("UPDATE u SET x = 1 WHERE y = 2", &d), ["u"]);
        assert_eq!(tables_of("DELETE FROM \"we\"\"ird\" WHERE k = 1", &d), ["we\"ird"]);
        assert_eq!(
            tables_of(
                "WITH n AS (SELECT * FROM t) SELECT * FROM n UNION SELECT * FROM (SELECT * FROM s)",
                &d
            ),
            ["t", "n", "s"]
        );
        assert_eq!(tables_of("SELECT * FROM T JOIN t ON 1", &d), ["T"]);
        assert!(tables_of("not sql at all", &d).is_empty());
        assert!(tables_of("CREATE INDEX i ON t(a)", &d).is_empty());
    }

    #[test]
    fn plan_rows_name_the_indexes_they_use_even_with_spaces_and_quotes() {
        let all = [
            listed("t", "idx"),
            listed("t", "idx_2"),
            listed("t", "idx \"q\" a"),
            listed("u", "u_k"),
            Listed { primary: true, unique: true, ..listed("w", "sqlite_autoindex_w_1") },
        ];
        let uses = |rows: &[&str]| {
            let rows: Vec<String> = rows.iter().map(|s| s.to_string()).collect();
            sqlite_uses(&rows, &all)
        };
        assert_eq!(uses(&["SEARCH t USING INDEX idx (a=?)"]), [0]);
        assert_eq!(uses(&["SEARCH t USING INDEX idx_2 (a=?)"]), [1]);
        assert_eq!(uses(&["SEARCH t USING COVERING INDEX idx \"q\" a (a>?)"]), [2]);
        assert_eq!(uses(&["SCAN t USING INDEX idx"]), [0]);
        assert_eq!(
            uses(&[
                "MULTI-INDEX OR",
                "INDEX 1",
                "SEARCH t USING INDEX idx (a=?)",
                "INDEX 2",
                "SEARCH u USING INDEX u_k (k=?)"
            ]),
            [0, 3]
        );
        assert_eq!(uses(&["SEARCH w USING PRIMARY KEY (k=?)"]), [4]);
        assert!(uses(&["SCAN t", "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"]).is_empty());
        assert!(uses(&["SEARCH t USING AUTOMATIC COVERING INDEX (a=?)"]).is_empty());
        assert!(uses(&["SEARCH t USING INDEX idx_3 (a=?)", "SEARCH t USING INDEX"]).is_empty());
    }
}
