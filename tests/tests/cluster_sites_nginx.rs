//! Several sites behind the shipped nginx site (`deploy/nginx/wardpage.conf`):
//! the one URL a hospital's devices keep, with each site under its prefix
//! (`/site/<name>/`). Real processes: two `wardpage` nodes on a fresh
//! PostgreSQL database, a `nats-server` and Debian's nginx of the test's
//! own. Needs `WARDPAGE_TEST_POSTGRES` and nginx (a run without either says
//! loudly that it skipped; `WARDPAGE_TEST_NGINX` makes a missing nginx fail).

use wardpage_proto::{Event, TaskChange, TaskId};
use wardpage_tests::nginx::{nginx_or_skip, Nginx};
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::sites::*;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client};

/// A site's night: a nurse who raises and a coordinator who watches, both
/// through nginx under the site's prefix.
struct SiteDevices {
    site: &'static str,
    nurse: Client,
    coord: Client,
    /// The tasks raised here, in order.
    own: Vec<TaskId>,
}

impl SiteDevices {
    async fn connect(base: &str, site: &'static str) -> anyhow::Result<SiteDevices> {
        let prefix = format!("{base}/site/{site}");
        Ok(SiteDevices {
            site,
            nurse: Client::login_connect(&prefix, "nurse.okafor").await?,
            coord: Client::login_connect(&prefix, "coord.hale").await?,
            own: Vec::new(),
        })
    }

    /// Raises a task on this site; its coordinator sees it raised, and
    /// every task event its stream carried on the way was this site's.
    async fn raise_seen(&mut self) -> anyhow::Result<TaskId> {
        let task = raise_ok(&mut self.nurse, cannula_w7()).await?;
        self.own.push(task.id);
        let mut foreign = Vec::new();
        self.coord
            .wait_for(|e| match e {
                Event::Task {
                    task: t, change, ..
                } => {
                    if !self.own.contains(&t.id) {
                        foreign.push(t.id);
                    }
                    t.id == task.id && *change == TaskChange::Raised
                }
                _ => false,
            })
            .await?;
        assert!(
            foreign.is_empty(),
            "{}: another site's {foreign:?}",
            self.site
        );
        Ok(task.id)
    }

    /// Both devices reconnect to the same URL from their cursors (the
    /// client fails on any gap in `seq`).
    async fn resume(self) -> anyhow::Result<SiteDevices> {
        Ok(SiteDevices {
            site: self.site,
            nurse: self.nurse.reconnect().await?,
            coord: self.coord.reconnect().await?,
            own: self.own,
        })
    }
}

/// Two nodes on two sites (one owner each), nginx in front of both: each
/// site's web client is served under its prefix through nginx; each site's
/// devices log in and connect there and see only their own site's tasks.
/// SIGKILL north's owner: the other node takes north over, every device
/// (north's and south's, whichever node nginx had put it on) reconnects to
/// the same URL and resumes from its cursor with no gap and nothing shown
/// twice, and each site's tasks from before and after are on it alone.
#[tokio::test]
async fn through_nginx_each_site_is_served_and_resumes_when_its_owner_dies() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    let Some(nginx) = nginx_or_skip("through_nginx_each_site_is_served")? else {
        return Ok(());
    };
    on_fresh_postgres("through_nginx_each_site", |url| async move {
        let TwoNodes {
            nats: _nats,
            dir,
            a,
            b,
            owners,
        } = TwoNodes::spread(&url).await?;
        // Both nodes serve both sites (each forwards the other's over
        // NATS) before devices come: nginx may put any request on either.
        until_ready(&a).await?;
        until_ready(&b).await?;
        let proxy = Nginx::start(&nginx, dir.path(), &[&a, &b]).await?;
        let base = proxy.base();
        for site in SITES {
            web_client_is_served(&format!("{base}/site/{site}")).await?;
        }
        let mut devices = Vec::new();
        for site in SITES {
            devices.push(SiteDevices::connect(&base, site).await?);
        }
        let mut raised = Vec::new();
        for d in &mut devices {
            raised.push((d.site, d.raise_seen().await?));
        }
        let (killed, survivor) = if owners["north"].0 == "a" {
            (a, b)
        } else {
            (b, a)
        };
        killed.kill9().await?;
        eventually("the survivor owns both sites", || async {
            Ok((site_owners(&[("survivor", &survivor)]).await?.len() == SITES.len()).then_some(()))
        })
        .await?;
        let mut resumed = Vec::new();
        for d in devices {
            resumed.push(d.resume().await?);
        }
        for d in &mut resumed {
            raised.push((d.site, d.raise_seen().await?));
        }
        for d in &mut resumed {
            assert_eq!(d.coord.duplicates, 0, "{}: nothing shown twice", d.site);
            assert_eq!(d.nurse.duplicates, 0, "{}: nothing shown twice", d.site);
            let (_, open) = snapshot(&mut d.coord).await?;
            let open: Vec<TaskId> = open.iter().map(|t| t.id).collect();
            for (site, id) in &raised {
                assert_eq!(
                    open.contains(id),
                    *site == d.site,
                    "{}'s coordinator and {site}'s task {id:?}: {open:?}",
                    d.site
                );
            }
        }
        proxy.stop().await?;
        survivor.terminate().await?;
        Ok(())
    })
    .await
}
