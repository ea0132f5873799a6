//! Numbers handed out one at a time — 办件编号 serials, licence serials, status-list
//! indexes — drawn *before* the transaction that uses them, so no writer holds a counter
//! row while it does the rest of its work (issue 20).
//!
//! On PostgreSQL a number comes from a `SEQUENCE` (`nextval` takes no row lock and is
//! never rolled back): any number of nodes draw at once without queueing. The sequence is
//! created on first use, starting after every number already given (the counter row of
//! before, and whatever the caller's `floor` finds in the data, e.g. in a database
//! restored from a backup). On SQLite (one writer) a number is the counter row `key` of
//! `case_counters`, moved in a transaction of its own.
//!
//! Unique always; dense, not gapless: a transaction that fails after drawing leaves its
//! number unused.

use crate::{get_i64, Result, Store};
use sha2::{Digest, Sha256};
use std::future::Future;

/// Where a drawn number comes from.
pub(crate) struct Counter<'a> {
    /// The counter row's key in `case_counters` (both backends: the SQLite counter, and on
    /// PostgreSQL the value a new sequence starts after).
    pub key: &'a str,
    /// The value before the first number (0: numbers start at 1; -1: they start at 0).
    pub initial: i64,
}

impl Counter<'_> {
    /// The PostgreSQL sequence of this counter: `num_` and 24 hex digits of the key's
    /// SHA-256 (keys such as `LIC<type><issuer><year>` are longer than an identifier).
    fn sequence_name(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        format!("num_{}", &hex::encode(digest)[..24])
    }
}

impl Store {
    /// The next number of `counter`. `floor` (called only when a PostgreSQL sequence is
    /// created) returns the highest number already present in the data.
    pub(crate) async fn draw_number<F, Fut>(&self, counter: Counter<'_>, floor: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<i64>>,
    {
        match self.backend() {
            crate::Backend::Postgres => {
                let name = counter.sequence_name();
                self.draw_from_sequence(&name, counter.key, counter.initial, floor)
                    .await
            }
            crate::Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                crate::db::query(
                    "INSERT INTO case_counters (day, n) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
                )
                .bind(counter.key)
                .bind(counter.initial)
                .execute(&mut *tx)
                .await?;
                let n = get_i64(
                    &crate::db::query(
                        "UPDATE case_counters SET n = n + 1 WHERE day = $1 RETURNING n",
                    )
                    .bind(counter.key)
                    .fetch_one(&mut *tx)
                    .await?,
                    "n",
                )?;
                self.commit(tx).await?;
                Ok(n)
            }
        }
    }

    /// `nextval` of the PostgreSQL sequence `name`, creating it on first use after the
    /// counter row `key` and `floor`.
    pub(crate) async fn draw_from_sequence<F, Fut>(
        &self,
        name: &str,
        key: &str,
        initial: i64,
        floor: F,
    ) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<i64>>,
    {
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let next = format!("SELECT nextval('{name}') AS n");
        match crate::db::query(&next).fetch_one(self.w()).await {
            Ok(r) => return get_i64(&r, "n"),
            // 42P01: the sequence does not exist yet.
            Err(e) if e.code.as_deref() == Some("42P01") => {}
            Err(e) => return Err(e.into()),
        }
        let counter = crate::db::query("SELECT n FROM case_counters WHERE day = $1")
            .bind(key)
            .fetch_optional(self.w())
            .await?
            .map(|r| get_i64(&r, "n"))
            .transpose()?
            .unwrap_or(initial);
        let start = counter.max(floor().await?).max(initial) + 1;
        match crate::db::query(&format!(
            "CREATE SEQUENCE IF NOT EXISTS {name} MINVALUE 0 START WITH {start}"
        ))
        .execute(self.w())
        .await
        {
            Ok(_) => {}
            // Another node created it at the same moment.
            Err(e) if matches!(e.code.as_deref(), Some("23505" | "42P07")) => {}
            Err(e) => return Err(e.into()),
        }
        get_i64(&crate::db::query(&next).fetch_one(self.w()).await?, "n")
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;
    use crate::Store;

    async fn backends() -> Vec<TestDb> {
        let mut out = vec![TestDb::sqlite().await];
        out.extend(TestDb::postgres().await);
        out
    }

    async fn draw(store: &Store, key: &str, initial: i64, floor: i64) -> i64 {
        let counter = super::Counter { key, initial };
        store
            .draw_number(counter, || async move { Ok(floor) })
            .await
            .unwrap()
    }

    /// 64 draws at once: every number once, with no gap, starting after `initial`.
    #[tokio::test]
    async fn concurrent_draws_are_unique_and_dense() {
        for db in backends().await {
            let store = db.store.clone();
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let s = store.clone();
                tasks.push(tokio::spawn(async move { draw(&s, "LICX", -1, -1).await }));
            }
            let mut got = Vec::new();
            for t in tasks {
                got.push(t.await.unwrap());
            }
            got.sort();
            assert_eq!(got, (0..64).collect::<Vec<i64>>(), "{:?}", db.backend);
            // Another counter is independent.
            assert_eq!(draw(&store, "LICY", 0, 0).await, 1);
        }
    }

    /// A counter that already counted (the counter row of before, or numbers found in the
    /// data of a restored database) goes on after the highest of them.
    #[tokio::test]
    async fn numbers_continue_after_those_already_given() {
        for db in backends().await {
            let store = &db.store;
            store
                .debug_execute("INSERT INTO case_counters (day, n) VALUES ('LICZ', $1)", 41)
                .await
                .unwrap();
            assert_eq!(draw(store, "LICZ", 0, 7).await, 42, "{:?}", db.backend);
            assert_eq!(draw(store, "LICZ", 0, 7).await, 43);
            if db.backend == crate::Backend::Postgres {
                // The data's floor wins over a lower counter row when the sequence is made.
                assert_eq!(draw(store, "LICW", 0, 500).await, 501);
            }
        }
    }
}
