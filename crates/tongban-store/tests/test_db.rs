//! The test fixture itself: a PostgreSQL test database is dropped even when its test never
//! reaches `cleanup` (a panic), so failed runs leave nothing behind.

use tongban_store::testing::TestDb;

async fn database_exists(name: &str) -> bool {
    use tongban_store::sqlx::{Connection, Row};
    let admin = std::env::var("TONGBAN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap();
    let n: i64 =
        tongban_store::sqlx::query("SELECT COUNT(*) AS n FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("n");
    n == 1
}

#[tokio::test]
async fn a_dropped_postgres_test_database_is_removed() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("PostgreSQL not reachable; skipped");
        return;
    };
    let name = url::Url::parse(&db.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    assert!(database_exists(&name).await);
    // Dropped without `cleanup`, as a panicking test would.
    let outcome = tokio::spawn(async move {
        let _held = db;
        panic!("a failing test");
    })
    .await;
    assert!(outcome.is_err());
    assert!(!database_exists(&name).await, "{name} left behind");
}
