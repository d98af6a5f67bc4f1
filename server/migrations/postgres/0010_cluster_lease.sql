-- Several nodes on one database (`[cluster]`): the claim becomes a lease.
-- `holder` names the node that raised `epoch`; `valid_until` is when its
-- lease ends, set from the database's own clock (`now()`) by the holder's
-- renewals, so that no node's clock decides who owns. A node that holds
-- the advisory lock but has let `valid_until` pass (frozen, cut off) may be
-- ended by a standby, which then claims. NULL `valid_until`: a single hub
-- (no `[cluster]`), whose claim lasts as long as its advisory lock.
ALTER TABLE hub_claim ADD COLUMN holder TEXT;
ALTER TABLE hub_claim ADD COLUMN valid_until TIMESTAMPTZ;
