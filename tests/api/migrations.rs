//! Migrations apply from empty on both databases, and twice is a no-op.

use greenchip::Config;

use crate::helpers::TestDb;

#[tokio::test]
async fn migrations_apply_from_empty_and_again_change_nothing() {
    let (_test_db, url) = TestDb::create().await;
    let config = Config {
        database_url: url,
        ..Config::default()
    };
    let db = greenchip::db::open(&config).await.unwrap();
    let applied = greenchip::db::migrate(&db).await.unwrap();
    assert!(!applied.is_empty());
    assert!(
        applied.iter().any(|name| name.contains("foundation")),
        "{applied:?}"
    );
    let again = greenchip::db::migrate(&db).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    db.close().await.unwrap();
}
