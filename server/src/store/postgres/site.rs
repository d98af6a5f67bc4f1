//! Several sites (hospitals) in one PostgreSQL database, one schema each.
//! The site `default` is the database's `public` schema, where a
//! deployment of one site has always kept its tables, so it is untouched;
//! any other site `<name>` lives in the schema `site_<name>`, with the
//! same tables and migrations, reached by setting `search_path` on every
//! connection of that site's store. So each site has its own claim row,
//! epoch and lease (`hub_claim` in its schema), and its own advisory lock
//! (a key derived from its name): sites are owned, fenced and taken over
//! independently, and no query of one site can see another's rows.

use super::HUB_LOCK_KEY;
use crate::store::{StoreError, StoreResult};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// The site of a deployment that names none, in the `public` schema.
pub const DEFAULT_SITE: &str = "default";

/// The longest site name (schema names are limited to 63 bytes).
const MAX_NAME: usize = 32;

/// Whether `name` may name a site: a lowercase letter, then lowercase
/// letters, digits or `_`, at most 32 in all. It becomes part of a schema
/// name, a URL path and a NATS subject, so nothing that would need quoting
/// in any of them.
pub fn valid_site_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The schema of `site`, `None` for the default site (`public`).
pub(super) fn schema(site: &str) -> StoreResult<Option<String>> {
    if !valid_site_name(site) {
        return Err(StoreError::Corrupt(format!(
            "{site:?} is not a site name (a lowercase letter, then letters, digits or _)"
        )));
    }
    Ok((site != DEFAULT_SITE).then(|| format!("site_{site}")))
}

/// The advisory lock of `site`'s claim: the one a single hub has always
/// taken for the default site, and for any other a key of its own, the
/// same on every node (FNV-1a of the site's name, not Rust's hasher,
/// which is seeded per process).
pub(super) fn lock_key(site: &str) -> i64 {
    if site == DEFAULT_SITE {
        return HUB_LOCK_KEY;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "wardpage.site.".bytes().chain(site.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // The bits as they are: a key is any bigint.
    h as i64
}

/// Makes sure `schema` exists. Two nodes starting at once on a fresh
/// database would race on `CREATE SCHEMA IF NOT EXISTS` (it can fail with
/// a duplicate key); a transaction-scoped advisory lock orders them.
pub(super) async fn create_schema(opts: &PgConnectOptions, schema: &str) -> StoreResult<()> {
    let mut conn = PgConnection::connect_with(opts).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(HUB_LOCK_KEY ^ 0x5c4e_3a00)
        .execute(&mut *tx)
        .await?;
    // The name was checked by `schema`: letters, digits and `_` only.
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let _ = conn.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_need_no_quoting_anywhere() {
        for ok in ["default", "north", "st_marys", "h2"] {
            assert!(valid_site_name(ok), "{ok}");
        }
        for bad in [
            "",
            "North",
            "2nd",
            "a-b",
            "a.b",
            "a*",
            "a b",
            &"x".repeat(33),
        ] {
            assert!(!valid_site_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn each_site_has_its_own_lock_and_the_default_keeps_the_old_one() {
        assert_eq!(lock_key(DEFAULT_SITE), HUB_LOCK_KEY);
        assert_ne!(lock_key("north"), lock_key("south"));
        assert_ne!(lock_key("north"), HUB_LOCK_KEY);
        // Stable across processes and releases: every node must agree.
        assert_eq!(lock_key("north"), 0xe573_bfa5_ba7e_41ac_u64 as i64);
        assert_eq!(
            schema("north").ok().flatten().as_deref(),
            Some("site_north")
        );
        assert_eq!(schema(DEFAULT_SITE).ok().flatten(), None);
    }
}
