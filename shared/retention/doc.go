// Package retention decides which backups (checkpoints) a scheduled
// retention_protect operation keeps and which it deletes.
//
// It implements Karbor's two retention keys (spec §7.5) and, beyond Karbor,
// a grandfather-father-son (GFS) policy with the semantics of restic's
// `forget --keep-*` options.
//
// # Karbor rules
//
//   - max_backups N (N > 0): the newest N items are kept, every older one is
//     removed. N <= 0 or absent: unlimited.
//   - retention_duration N (N > 0, in days): an item is removed when its UTC
//     calendar date is more than N days before now's UTC calendar date, i.e.
//     date(now) - date(item) > N. This is Karbor's rule: checkpoint
//     created_at is a date ("YYYY-MM-DD", UTC) and Karbor deletes when
//     (utcnow - created_at).days > N. So with N = 7 and now on the 10th, items
//     of the 3rd (any time of day) survive and items of the 2nd go, even
//     though an item of the 3rd at 00:00 is more than 7×24h old. Items dated
//     after now are never removed by this rule. N <= 0 or absent: unlimited.
//
// # GFS rules (restic forget)
//
// Keys keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly and
// keep_yearly, modelled on restic's ApplyPolicy (restic
// internal/data/snapshot_policy.go, formerly internal/restic/, at commit
// a80be147; documented in doc/060_forget.rst). Items are walked newest first.
// Each rule with count N has a bucket function:
//
//	last     every item is its own bucket
//	hourly   year, month, day, hour
//	daily    year, month, day
//	weekly   ISO 8601 week (ISO year + ISO week: Monday 00:00 to Sunday 24:00,
//	         so 2020-12-31 and 2021-01-03 share week 2020-W53 and 2024-12-30
//	         is in 2025-W01)
//	monthly  year, month
//	yearly   year
//
// and keeps an item when, while the rule still has count left, the item's
// bucket differs from the bucket of the item the rule kept last; every kept
// item uses up one count. The effect is: the newest item of each of the N
// most recent buckets that contain items. Buckets are natural calendar
// boundaries, not relative to now, and only buckets holding items count.
// N < 0 means every bucket (restic's "unlimited"); N == 0 leaves the rule
// unused.
//
// Restic's "oldest" rule (restic >= 0.17) is implemented too: when the walk
// reaches the oldest item and a rule still has count left, that rule keeps the
// oldest item even if its bucket already has a kept item (restic reports it as
// "oldest daily snapshot" etc.). So keep_yearly=3 over one and a half years
// keeps the newest item of each year and the very oldest one.
//
// An item is kept when at least one rule keeps it (the rules are ORed). With
// no GFS rule set the GFS stage removes nothing. restic's keep-within*,
// keep-tag and grouping options are not part of Pouch.
//
// # Time zones
//
// Restic buckets a snapshot in the time zone recorded with the snapshot
// (the local zone of the host that made it). Pouch converts every time to
// UTC before bucketing, so "daily" means a UTC day and "weekly" an ISO week
// in UTC, whatever zone the times come in.
//
// # Ordering and ties
//
// Items are ordered newest first by time (instants compared, so the same
// instant in two zones ties); equal times are ordered by ID ascending, so the
// item with the smaller ID counts as the newer one (it is the one a bucket
// rule keeps). Outputs are in that order.
//
// # Combination
//
// The Karbor rules run first: every item beyond the newest max_backups and
// every item older than retention_duration is removed. If any GFS rule is set,
// the GFS rules are then applied to the surviving items only (so restic's
// "oldest" rule concerns the oldest survivor) and remove each survivor that no
// GFS rule keeps. The result is kept = survivors of both stages. A Policy for
// which Empty reports true removes nothing.
package retention
