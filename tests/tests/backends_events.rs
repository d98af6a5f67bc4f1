//! The event log's rows on every storage backend, SQLite always and
//! PostgreSQL when `WARDPAGE_TEST_POSTGRES` names a server (a run without it
//! says loudly that it skipped): a large prune never holds up a group
//! commit, staff ids that look alike each find exactly their own events,
//! and the migration that moved recipient lists to their own table.

use sqlx::Connection;
use std::sync::Arc;
use wardpage_proto::StaffId;
use wardpage_server::store::postgres::PgStore;
use wardpage_server::store::sqlite::SqliteStore;
use wardpage_server::store::{Batch, Store, StreamEvent};
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::store_rows::{event, seqs};

/// The fixture of [`a_large_prune`]: 201,000 events, 200,000 of them below
/// the inbox watermark with their inbox rows: `a` hears every event and
/// acknowledged them all, `b` every tenth and acknowledged half of its old
/// ones. Events 180,001-200,000 are recent; all others (those above the
/// watermark too) are old. Every event has its recipient rows.
const PRUNE_EVENTS: i64 = 201_000;
const PRUNE_WATERMARK: i64 = 200_000;
const PRUNE_OLD: i64 = 180_000;
const RECENT: i64 = 1_000_000_000_000;

fn prune_fixture(a: StaffId, b: StaffId) -> Vec<String> {
    let b_acked = PRUNE_OLD / 20;
    let nums = |top: i64| {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {top})")
    };
    vec![
        format!(
            "{} INSERT INTO events (id, at, body) SELECT i, \
             CASE WHEN i > {PRUNE_OLD} AND i <= {PRUNE_WATERMARK} THEN {RECENT} ELSE 1 END, \
             '{{}}' FROM n",
            nums(PRUNE_EVENTS)
        ),
        // Every event's recipients, as its commit wrote them.
        format!(
            "{} INSERT INTO event_recipients (event, staff, seq) SELECT i, '{a}', i FROM n",
            nums(PRUNE_EVENTS)
        ),
        format!(
            "{} INSERT INTO event_recipients (event, staff, seq) SELECT i * 10, '{b}', i FROM n",
            nums(PRUNE_EVENTS / 10)
        ),
        format!(
            "{} INSERT INTO inbox (staff, seq, event) SELECT '{a}', i, i FROM n",
            nums(PRUNE_WATERMARK)
        ),
        format!(
            "{} INSERT INTO inbox (staff, seq, event) SELECT '{b}', i, i * 10 FROM n",
            nums(PRUNE_WATERMARK / 10)
        ),
        format!(
            "INSERT INTO streams (staff, last_seq, acked_seq) VALUES \
             ('{a}', {PRUNE_WATERMARK}, {PRUNE_EVENTS}), ('{b}', {}, {b_acked})",
            PRUNE_WATERMARK / 10
        ),
        format!("UPDATE meta SET value = {PRUNE_WATERMARK} WHERE key = 'inbox_through'"),
    ]
}

/// A prune of a large history while group commits stream in: every commit
/// succeeds, and commits complete while the prune is under way (seen as
/// `a`'s stream floor part-way up), so none waited behind the whole prune;
/// the prune then leaves exactly what must stay. `query` runs SQL on the
/// database and returns the first column of the first row.
async fn a_large_prune<Q, Fut>(store: Arc<dyn Store>, query: Q) -> anyhow::Result<()>
where
    Q: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<i64>>,
{
    let (a, b) = (StaffId::new_random(), StaffId::new_random());
    for sql in prune_fixture(a, b) {
        query(sql).await?;
    }
    let floor_a = format!("SELECT pruned_through FROM streams WHERE staff = '{a}'");
    let pruner = store.clone();
    let prune = tokio::spawn(async move { pruner.prune(2, 0).await });
    let (mut commits, mut during) = (0, 0);
    while !prune.is_finished() {
        commits += 1;
        let id = PRUNE_EVENTS + commits;
        let batch = Batch {
            events: vec![event(id, &[])],
            ..Default::default()
        };
        store.commit(&batch).await?;
        let floor = query(floor_a.clone()).await?;
        if floor > 0 && floor < PRUNE_OLD {
            during += 1;
        }
    }
    let gone = prune.await??;
    let b_acked = PRUNE_OLD / 20;
    assert_eq!(gone, (PRUNE_OLD + b_acked) as u64, "stream entries pruned");
    assert!(
        during > 0,
        "{commits} commits went through, none of them while the prune was under way"
    );
    let count = |sql: &str| query(sql.to_string());
    assert_eq!(query(floor_a).await?, PRUNE_OLD);
    assert_eq!(
        count(&format!(
            "SELECT pruned_through FROM streams WHERE staff = '{b}'"
        ))
        .await?,
        b_acked
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM inbox WHERE staff = '{a}'")).await?,
        PRUNE_WATERMARK - PRUNE_OLD,
        "a's recent entries stay"
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM inbox WHERE staff = '{b}'")).await?,
        PRUNE_WATERMARK / 10 - b_acked,
        "b's unacknowledged and recent entries stay"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id > {PRUNE_WATERMARK}"
        ))
        .await?,
        PRUNE_EVENTS - PRUNE_WATERMARK + commits,
        "nothing above the watermark is pruned, however old"
    );
    // Old events go once no stream refers to them: all but b's unacked ones.
    let kept_old = PRUNE_OLD / 10 - b_acked;
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id <= {PRUNE_OLD}"
        ))
        .await?,
        kept_old
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id > {PRUNE_OLD} AND id <= {PRUNE_WATERMARK}"
        ))
        .await?,
        PRUNE_WATERMARK - PRUNE_OLD,
        "recent events stay"
    );
    // Recipient rows are read only above the watermark: below it they go,
    // however recent; above it they stay, however old.
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM event_recipients WHERE event <= {PRUNE_WATERMARK}"
        ))
        .await?,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM event_recipients").await?,
        (PRUNE_EVENTS - PRUNE_WATERMARK) * 11 / 10,
        "a's and b's rows of the events above the watermark stay"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_prune_never_holds_up_a_group_commit_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("prune.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(std::time::Duration::from_secs(30)),
        )
        .await?;
    a_large_prune(store, |sql| {
        let db = db.clone();
        async move {
            let row: Option<(i64,)> = sqlx::query_as(&sql).fetch_optional(&db).await?;
            Ok(row.map_or(0, |r| r.0))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_prune_never_holds_up_a_group_commit_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_large_prune_never_holds_up_a_group_commit_on_postgres",
        |url| async move {
            let store: Arc<dyn Store> = Arc::new(PgStore::open(&url).await?);
            let db = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            a_large_prune(store, |sql| {
                let db = db.clone();
                async move {
                    let row: Option<(i64,)> = sqlx::query_as(&sql).fetch_optional(&db).await?;
                    Ok(row.map_or(0, |r| r.0))
                }
            })
            .await
        },
    )
    .await
}

/// Staff ids that share a prefix, a suffix or digits with each other: each
/// event is found by exactly its own recipients, above the watermark (the
/// events' recipient rows) and below it (the inbox), at start-up too.
async fn neighbouring_ids(store: &dyn Store) -> anyhow::Result<()> {
    let id = |n: u128| StaffId(uuid::Uuid::from_u128(n));
    let (a, b, c, d) = (id(0x1), id(0x11), id(0x10), id((1 << 124) | 0x1));
    let to = [(b, 1), (c, 1), (d, 1), (a, 1), (a, 2)];
    store
        .commit(&Batch {
            events: to
                .iter()
                .enumerate()
                .map(|(i, r)| event(i as i64 + 1, &[*r]))
                .collect(),
            ..Batch::default()
        })
        .await?;
    let bodies = |events: Vec<StreamEvent>| -> Vec<(u64, String)> {
        events.into_iter().map(|e| (e.seq, e.body)).collect()
    };
    let expect = |n: i64, seq: u64| (seq, format!("{{\"event\":{n}}}"));
    let check = || async move {
        assert_eq!(
            bodies(store.replay(a, 0, 100).await?),
            [expect(4, 1), expect(5, 2)]
        );
        assert_eq!(bodies(store.replay(a, 1, 100).await?), [expect(5, 2)]);
        assert_eq!(bodies(store.replay(b, 0, 100).await?), [expect(1, 1)]);
        assert_eq!(bodies(store.replay(c, 0, 100).await?), [expect(2, 1)]);
        assert_eq!(bodies(store.replay(d, 0, 100).await?), [expect(3, 1)]);
        assert!(store.replay(id(0x100), 0, 100).await?.is_empty());
        anyhow::Ok(())
    };
    check().await?;
    let mut tail = store.load(0, 0).await?.inbox_tail;
    tail.sort();
    let mut owed: Vec<_> = to
        .iter()
        .enumerate()
        .map(|(i, (s, seq))| (*s, *seq, i as i64 + 1))
        .collect();
    owed.sort();
    assert_eq!(tail, owed, "each recipient owed exactly their rows");
    // The inbox written and the watermark past them all: the same answers.
    store
        .commit(&Batch {
            inbox: owed,
            inbox_through: Some(5),
            streams: vec![(a, 2), (b, 1), (c, 1), (d, 1)],
            ..Batch::default()
        })
        .await?;
    check().await?;
    assert!(store.load(0, 0).await?.inbox_tail.is_empty());
    Ok(())
}

#[tokio::test]
async fn neighbouring_ids_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("ids.db")).await?;
    neighbouring_ids(&store).await
}

#[tokio::test]
async fn neighbouring_ids_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("neighbouring_ids_on_postgres", |url| async move {
        neighbouring_ids(&PgStore::open(&url).await?).await
    })
    .await
}

/// A database's migrations up to `through`, from the repository's files.
async fn migrations_through(
    backend: &str,
    through: i64,
) -> anyhow::Result<sqlx::migrate::Migrator> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/migrations")
        .join(backend);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await?;
    let kept: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= through)
        .cloned()
        .collect();
    migrator.migrations = kept.into();
    Ok(migrator)
}

/// Events stored with the encoded recipient lists of before the
/// `event_recipients` table: one at the watermark, whose inbox rows are
/// written (left out here, so that a replay shows it was not moved), and
/// two above it, one with no recipients.
const OLD_EVENTS: [&str; 2] = [
    "UPDATE meta SET value = 1 WHERE key = 'inbox_through'",
    "INSERT INTO events (id, at, body, recipients) VALUES \
     (1, 1001, 'one', '00000000-0000-0000-0000-000000000001:1'), \
     (2, 1002, 'two', '00000000-0000-0000-0000-000000000001:2,00000000-0000-0000-0000-000000000011:1'), \
     (3, 1003, 'three', '')",
];

/// What the migration moved: the tail's recipients, each exactly once.
async fn moved_over(store: &dyn Store) -> anyhow::Result<()> {
    let id = |n: u128| StaffId(uuid::Uuid::from_u128(n));
    let loaded = store.load(0, 0).await?;
    assert_eq!(loaded.max_event_id, 3);
    let mut tail = loaded.inbox_tail;
    tail.sort();
    assert_eq!(tail, [(id(0x1), 2, 2), (id(0x11), 1, 2)]);
    let replayed = store.replay(id(0x11), 0, 10).await?;
    assert_eq!(replayed.len(), 1);
    assert_eq!((replayed[0].seq, replayed[0].body.as_str()), (1, "two"));
    assert_eq!(seqs(&store.replay(id(0x1), 0, 10).await?), [2]);
    Ok(())
}

#[tokio::test]
async fn recipient_lists_move_to_their_table_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("old.db");
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    migrations_through("sqlite", 9)
        .await?
        .run(&mut conn)
        .await?;
    for sql in OLD_EVENTS {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    conn.close().await?;
    moved_over(&SqliteStore::open(&path).await?).await
}

#[tokio::test]
async fn recipient_lists_move_to_their_table_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres(
        "recipient_lists_move_to_their_table_on_postgres",
        |url| async move {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            migrations_through("postgres", 6)
                .await?
                .run(&mut conn)
                .await?;
            for sql in OLD_EVENTS {
                sqlx::query(sql).execute(&mut conn).await?;
            }
            conn.close().await?;
            moved_over(&PgStore::open(&url).await?).await
        },
    )
    .await
}
