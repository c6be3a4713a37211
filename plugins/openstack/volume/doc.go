// Package volume holds the protection plugins of OS::Cinder::Volume:
//
//   - the Cinder backup plugin (New, karbor-volume-protection-plugin,
//     section [cinder_backup_protection_plugin]): protect backs the volume
//     up with Cinder's backup service, from a temporary snapshot when
//     backup_from_snapshot is set (the default: an attached volume, or one
//     whose driver keeps snapshots as qcow2 chains, backs up right only from
//     a snapshot); restore makes a new volume from the backup; delete
//     deletes the backup.
//   - the volume snapshot plugin (NewSnapshot, karbor-volume-snapshot-plugin,
//     section [volume_snapshot_plugin]): protect takes a Cinder snapshot;
//     restore makes a new volume from it; delete deletes it.
//
// The data stays in Cinder: the bank holds what finds it. Every snapshot
// and backup a checkpoint makes carries the metadata pouch_checkpoint =
// <checkpoint id>, so that deleting the checkpoint also finds those a
// failed or killed protect did not record.
//
// Bank objects, under /checkpoints/<cp>/resource-data/<volume id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  Metadata: {"volume_id", "backup_id", "snapshot_id", "name",
//	          "description", "is_incremental", "status", "fail_reason",
//	          "size", "volume_name", "volume_description", "volume_type",
//	          "availability_zone", "bootable", "volume_metadata"}
//
// Provider file sections:
//
//	[cinder_backup_protection_plugin]
//	poll_interval = 15          ; seconds between status polls
//	poll_timeout = 1800         ; seconds a snapshot, backup or restore may take
//	backup_from_snapshot = True ; back up a forced snapshot, not the volume
//
//	[volume_snapshot_plugin]
//	poll_interval = 15
//	poll_timeout = 1800
package volume
