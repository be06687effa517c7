//! Index hints on PostgreSQL (feature `postgres`): `EXPLAIN (FORMAT JSON)` of each slow
//! fingerprint's **generic** plan (`plan_cache_mode = force_generic_plan`, the statement
//! `PREPARE`d and `EXPLAIN EXECUTE`d with every parameter NULL), so a parameterized statement
//! is planned for its shape rather than for one value. A `Seq Scan` with a `Filter` on columns
//! the statement's `WHERE` names is a hint; index, index-only and bitmap scans are not. The
//! same plans, of every fingerprint that reads or writes, and `pg_stat_user_indexes` give the
//! index usage.

use std::collections::HashMap;

use serde_json::Value;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use sqlx::Row;

use super::QueryCollector;
use super::sqlite::{IndexAdvice, IndexHint, MARK, Shape, Skipped, push_hint};
use super::usage::{IndexUsage, Listed, Workload};

/// The indexes of the schemas on the search path, with their scans since the statistics were
/// reset.
const LIST: &str = "/* perfscope */ SELECT s.relname::text, s.indexrelname::text, \
     i.indisunique, i.indisprimary, s.idx_scan FROM pg_stat_user_indexes AS s \
     JOIN pg_index AS i ON i.indexrelid = s.indexrelid \
     WHERE s.schemaname = ANY (current_schemas(false))";

impl QueryCollector {
    /// Runs `EXPLAIN (FORMAT JSON)` on one connection of `pool` for the statements of the 10
    /// fingerprints with the most total time (SELECT, UPDATE and DELETE only), generic plans
    /// with parameters NULL, and reads the plans for index hints. The connection's
    /// `plan_cache_mode` is reset afterwards. The hints are also the collector's events, as
    /// with [`index_hints`](Self::index_hints), and the index usage too: from the generic
    /// plans of every fingerprint that reads or writes, and `pg_stat_user_indexes` (an index
    /// it counts scans of is used, whatever the plans say).
    pub async fn index_hints_postgres(&self, pool: &sqlx::PgPool) -> IndexAdvice {
        let (candidates, skipped) = self.explain_candidates();
        let mut advice = IndexAdvice { skipped, ..IndexAdvice::default() };
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                for stats in &candidates {
                    advice.skipped.push(Skipped {
                        fingerprint: stats.label.clone(),
                        reason: format!("no connection: {e}"),
                    });
                }
                return advice;
            }
        };
        let set = format!("{MARK}SET plan_cache_mode = force_generic_plan");
        if let Err(e) = sqlx::raw_sql(&set).execute(&mut *conn).await {
            advice.skipped.extend(candidates.iter().map(|s| Skipped {
                fingerprint: s.label.clone(),
                reason: format!("SET plan_cache_mode failed: {e}"),
            }));
            return advice;
        }
        let mut explained = Vec::new();
        let mut plans = HashMap::new();
        for stats in &candidates {
            match explain(&mut conn, &stats.example).await {
                Ok(plan) => {
                    explained.push(stats.label.clone());
                    let before = advice.hints.len();
                    hints_from_json(&stats.label, &stats.example, &plan, &mut advice.hints);
                    if advice.hints.len() == before {
                        advice.explained += 1;
                    }
                    plans.insert(stats.label.clone(), plan);
                }
                Err(reason) => {
                    advice.skipped.push(Skipped { fingerprint: stats.label.clone(), reason })
                }
            }
        }
        advice.indexes = self.index_usage_postgres(&mut conn, &plans).await;
        let _ = sqlx::raw_sql(&format!("{MARK}RESET plan_cache_mode")).execute(&mut *conn).await;
        self.publish(&explained, &advice.hints, &advice.indexes);
        advice
    }

    /// Index usage on PostgreSQL, on a connection planning generically: the indexes of
    /// `pg_stat_user_indexes`, the plans of every explainable fingerprint (those in `plans`,
    /// already read, are not explained again).
    async fn index_usage_postgres(
        &self,
        conn: &mut sqlx::PgConnection,
        plans: &HashMap<String, Value>,
    ) -> Vec<IndexUsage> {
        let Ok(rows) = sqlx::raw_sql(LIST).fetch_all(&mut *conn).await else { return Vec::new() };
        let listed: Vec<Listed> = rows
            .iter()
            .filter_map(|row| {
                Some(Listed {
                    table: row.try_get(0).ok()?,
                    index: row.try_get(1).ok()?,
                    unique: row.try_get(2).ok()?,
                    primary: row.try_get(3).ok()?,
                    scans: row.try_get::<i64, _>(4).ok().map(|n| u64::try_from(n).unwrap_or(0)),
                })
            })
            .collect();
        if listed.is_empty() {
            return Vec::new();
        }
        let workload = Workload::of(self, &PostgreSqlDialect {});
        let (mut read, mut failed) = (Vec::new(), 0);
        for stats in workload.explainable() {
            let plan = match plans.get(&stats.label) {
                Some(plan) => plan.clone(),
                None => match explain(conn, &stats.example).await {
                    Ok(plan) => plan,
                    Err(_) => {
                        failed += 1;
                        continue;
                    }
                },
            };
            let names = indexes_in(&plan);
            let uses = (0..listed.len()).filter(|&i| names.contains(&listed[i].index.as_str()));
            read.push((stats.label.clone(), uses.collect()));
        }
        workload.usage(&listed, &read, failed, "EXPLAIN (FORMAT JSON), generic plans")
    }
}

/// The index names a JSON plan uses: `Index Name` of its index, index-only and bitmap index
/// scans, and its `Conflict Arbiter Indexes` (`INSERT ... ON CONFLICT`).
fn indexes_in(plan: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = match plan {
        Value::Array(items) => items.iter().filter_map(|i| i.get("Plan")).collect(),
        other => other.get("Plan").into_iter().collect(),
    };
    while let Some(node) = stack.pop() {
        if let Some(Value::Array(children)) = node.get("Plans") {
            stack.extend(children);
        }
        out.extend(node.get("Index Name").and_then(Value::as_str));
        if let Some(Value::Array(arbiters)) = node.get("Conflict Arbiter Indexes") {
            out.extend(arbiters.iter().filter_map(Value::as_str));
        }
    }
    out
}

/// The JSON plan of `statement`: prepared, explained with NULL parameters, deallocated.
async fn explain(conn: &mut sqlx::PgConnection, statement: &str) -> Result<Value, String> {
    let params = parameters(statement);
    let _ = sqlx::raw_sql(&format!("{MARK}DEALLOCATE perfscope_explain")).execute(&mut *conn).await;
    let prepare = format!("{MARK}PREPARE perfscope_explain AS {statement}");
    sqlx::raw_sql(&prepare)
        .execute(&mut *conn)
        .await
        .map_err(|e| format!("PREPARE failed: {e}"))?;
    let nulls = vec!["NULL"; params].join(", ");
    let args = if params == 0 { String::new() } else { format!("({nulls})") };
    let explain = format!("{MARK}EXPLAIN (FORMAT JSON) EXECUTE perfscope_explain{args}");
    let rows = sqlx::raw_sql(&explain).fetch_all(&mut *conn).await;
    let _ = sqlx::raw_sql(&format!("{MARK}DEALLOCATE perfscope_explain")).execute(&mut *conn).await;
    let rows = rows.map_err(|e| format!("EXPLAIN failed: {e}"))?;
    let text: String = rows
        .first()
        .and_then(|r| r.try_get_unchecked::<String, _>(0).ok())
        .ok_or("EXPLAIN returned no plan")?;
    serde_json::from_str(&text).map_err(|e| format!("unreadable plan: {e}"))
}

/// How many parameters (`$1` ... `$n`) `statement` takes: the highest `n`.
fn parameters(statement: &str) -> usize {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, statement).tokenize() else { return 0 };
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Placeholder(p) => p.strip_prefix('$')?.parse::<usize>().ok(),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Hints from one statement's JSON plan (`[{"Plan": {...}}]`).
fn hints_from_json(fingerprint: &str, statement: &str, plan: &Value, out: &mut Vec<IndexHint>) {
    let shape = Shape::of(statement, &PostgreSqlDialect {});
    let mut stack: Vec<&Value> = match plan {
        Value::Array(items) => items.iter().filter_map(|i| i.get("Plan")).collect(),
        other => other.get("Plan").into_iter().collect(),
    };
    while let Some(node) = stack.pop() {
        if let Some(Value::Array(children)) = node.get("Plans") {
            stack.extend(children);
        }
        let text = |key: &str| node.get(key).and_then(Value::as_str);
        if text("Node Type") != Some("Seq Scan") {
            continue;
        }
        let (Some(relation), Some(filter)) = (text("Relation Name"), text("Filter")) else {
            continue;
        };
        let alias = text("Alias").unwrap_or(relation);
        if let Some((table, columns)) = shape
            .columns_of(alias, &shape.filtered)
            .or_else(|| shape.columns_of(relation, &shape.filtered))
        {
            let why = format!(
                "EXPLAIN (FORMAT JSON), generic plan: Seq Scan on {relation} (every row read) \
                 with Filter: {filter}"
            );
            push_hint(out, fingerprint, statement, table, columns, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_and_plans_read() {
        assert_eq!(parameters("SELECT * FROM t WHERE a = $1 AND b = $3"), 3);
        assert_eq!(parameters("SELECT 1"), 0);
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan",
               "Relation Name": "orders", "Alias": "o", "Filter": "(customer_id = $1)"}]}}]"#,
        )
        .unwrap();
        let mut out = Vec::new();
        let sql = "SELECT o.id FROM orders o WHERE o.customer_id = $1 LIMIT 5";
        hints_from_json("f", sql, &plan, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].suggestion, "CREATE INDEX ON orders(customer_id)");
        let indexed: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "o",
               "Index Name": "orders_customer_id_idx"}}]"#,
        )
        .unwrap();
        let mut out = Vec::new();
        hints_from_json("f", sql, &indexed, &mut out);
        assert!(out.is_empty());
        assert_eq!(indexes_in(&indexed), ["orders_customer_id_idx"]);
    }

    #[test]
    fn every_kind_of_index_use_is_found_in_a_plan() {
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "ModifyTable", "Conflict Arbiter Indexes": ["t_k_key"],
               "Plans": [{"Node Type": "Bitmap Heap Scan", "Relation Name": "t", "Plans": [
                 {"Node Type": "Bitmap Index Scan", "Index Name": "t \"q\" idx"}]},
                 {"Node Type": "Index Only Scan", "Index Name": "u_idx"}]}}]"#,
        )
        .unwrap();
        let mut names = indexes_in(&plan);
        names.sort_unstable();
        assert_eq!(names, ["t \"q\" idx", "t_k_key", "u_idx"]);
        assert!(indexes_in(&Value::Null).is_empty());
    }
}
