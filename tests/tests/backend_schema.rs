//! The two backends keep one schema (same tables, columns and indexes) and
//! the same rules for command ids: an id stored twice, as when a client
//! re-sends a command after the hub forgot it, never fails a group commit
//! (on PostgreSQL a key on the id once failed every other user's commands
//! in that batch, and every retry again).

use sqlx::{Connection, Row};
use std::collections::BTreeSet;
use wardpage_proto::{CommandId, StaffId};
use wardpage_server::store::postgres::PgStore;
use wardpage_server::store::sqlite::SqliteStore;
use wardpage_server::store::{Batch, CommandRecord, Store};
use wardpage_tests::pg::on_fresh_postgres;

/// (table, column) and (table, index) names, leaving out the migration
/// bookkeeping and the indexes each engine makes for its own keys.
type Schema = (BTreeSet<(String, String)>, BTreeSet<(String, String)>);

async fn sqlite_schema(path: &std::path::Path) -> anyhow::Result<Schema> {
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    let columns = sqlx::query(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite%'",
    )
    .fetch_all(&mut db)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let indexes = sqlx::query(
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .fetch_all(&mut db)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    Ok((columns, indexes))
}

async fn postgres_schema(url: &str) -> anyhow::Result<Schema> {
    let mut db = sqlx::PgConnection::connect(url).await?;
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&mut db)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let indexes = sqlx::query(
        "SELECT tablename::text, indexname::text FROM pg_indexes \
         WHERE schemaname = 'public' AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' AND tablename NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&mut db)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    Ok((columns, indexes))
}

#[tokio::test]
async fn both_backends_have_the_same_schema() -> anyhow::Result<()> {
    on_fresh_postgres("both_backends_have_the_same_schema", |url| async move {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("hub.db");
        drop(SqliteStore::open(&path).await?);
        drop(PgStore::open(&url).await?);
        let (lite_columns, lite_indexes) = sqlite_schema(&path).await?;
        let (pg_columns, pg_indexes) = postgres_schema(&url).await?;
        assert!(!lite_columns.is_empty() && !lite_indexes.is_empty());
        let only = |a: &BTreeSet<(String, String)>, b: &BTreeSet<(String, String)>| {
            a.difference(b).cloned().collect::<Vec<_>>()
        };
        assert_eq!(
            only(&lite_columns, &pg_columns),
            vec![],
            "columns only SQLite has"
        );
        // The cluster's lease (`docs/cluster.md`) is PostgreSQL's alone:
        // a SQLite hub is single-node and has no lease to keep.
        let cluster_only = [("hub_claim", "holder"), ("hub_claim", "valid_until")]
            .map(|(t, c)| (t.to_owned(), c.to_owned()));
        let pg_shared: BTreeSet<(String, String)> = pg_columns
            .iter()
            .filter(|c| !cluster_only.contains(c))
            .cloned()
            .collect();
        assert!(
            cluster_only.iter().all(|c| pg_columns.contains(c)),
            "the lease columns are on PostgreSQL"
        );
        assert_eq!(
            only(&pg_shared, &lite_columns),
            vec![],
            "columns only PostgreSQL has"
        );
        assert_eq!(
            only(&lite_indexes, &pg_indexes),
            vec![],
            "indexes only SQLite has"
        );
        assert_eq!(
            only(&pg_indexes, &lite_indexes),
            vec![],
            "indexes only PostgreSQL has"
        );
        Ok(())
    })
    .await
}

fn answered(id: CommandId, actor: StaffId, at: i64, reply: &str) -> Batch {
    Batch {
        commands: vec![CommandRecord {
            id,
            actor,
            op: "raise_task".into(),
            digest: format!("digest-{at}"),
            at,
            reply: Some(reply.into()),
        }],
        ..Batch::default()
    }
}

/// An id stored a second time commits, and is remembered as its newest use.
async fn an_id_stored_twice(store: &dyn Store) -> anyhow::Result<()> {
    let (id, actor) = (CommandId::new_random(), StaffId::new_random());
    store.commit(&answered(id, actor, 1_000, "first")).await?;
    store.commit(&answered(id, actor, 2_000, "second")).await?;
    let loaded = store.load(0, 0).await?;
    let last = loaded
        .commands
        .iter()
        .rfind(|c| c.id == id)
        .expect("remembered");
    assert_eq!(last.at, 2_000, "the newest use comes last");
    assert_eq!(last.digest, "digest-2000");
    assert_eq!(
        store.command_reply(id, 2_000).await?.as_deref(),
        Some("second")
    );
    assert_eq!(
        store.command_reply(id, 1_000).await?.as_deref(),
        Some("first")
    );
    Ok(())
}

#[tokio::test]
async fn an_id_stored_twice_commits_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("hub.db")).await?;
    an_id_stored_twice(&store).await
}

#[tokio::test]
async fn an_id_stored_twice_commits_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("an_id_stored_twice_commits_on_postgres", |url| async move {
        an_id_stored_twice(&PgStore::open(&url).await?).await
    })
    .await
}
