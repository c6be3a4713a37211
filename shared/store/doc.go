// Package store keeps Pouch's durable records in Redis (AOF on): plans,
// restores, verifications, triggers, scheduled operations, operation logs
// (tables), quotas (hashes: limits, classes, usage reserved atomically in
// Lua) and the functions' heartbeats shown as os-services. Each record is one JSON value under
// <prefix><table>:<id>, listed through sorted sets of ids by creation time,
// one per project and one for all projects. Checkpoints are not here: they
// live in their provider's bank.
package store
