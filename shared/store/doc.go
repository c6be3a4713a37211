// Package store keeps Pouch's durable records in Redis (AOF on): plans,
// restores and operation logs now; triggers, scheduled operations and quotas
// join them with the API. Each record is one JSON value under
// <prefix><table>:<id>, listed through sorted sets of ids by creation time,
// one per project and one for all projects. Checkpoints are not here: they
// live in their provider's bank.
package store
