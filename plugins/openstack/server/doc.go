// Package server is the protection plugin of OS::Nova::Server (Karbor's
// karbor-server-protection-plugin). A server's disks are its children in the
// resource graph (its boot image, its volumes) and its network is the
// project's topology (OS::Neutron::Network): their plugins copy the data.
// This one keeps the server's definition and rebuilds the server from it.
//
// Protect saves the definition (name, flavor, boot source, attached
// volumes and their devices, availability zone, key pair, metadata,
// security groups, Neutron ports with their fixed and floating IPs). With
// the option quiesce it pauses the server in on_prepare_begin, before the
// children's prepare hooks (where volume snapshots are taken), and unpauses
// it in on_prepare_finish, after theirs.
//
// Restore runs in on_complete, after the children are restored: it boots a
// new server from the restored image or boot volume, on ports made on the
// restored networks with the saved addresses and security groups, attaches
// the restored volumes at their saved devices and associates the floating
// IPs again. A resource the restore did not make (its plugin is a no-op, or
// the plan did not hold it) is taken from the original when that still
// exists. The ports are made by the restore, not by Nova, so that each
// keeps its addresses and groups: they outlive the restored server if it is
// deleted. Each step is recorded in the restore's new_resources under keys
// "<server id>/<step>", so that a retried hook goes on with what an earlier
// attempt made instead of booting a second server; a restore that fails for
// good deletes the server, the ports and the floating IPs it made.
//
// Provider file section:
//
//	[nova_backup_protection_plugin]
//	poll_interval = 15   ; seconds between status checks
//	poll_timeout = 1800  ; seconds to wait for a server or volume status
//
// Bank objects, under /checkpoints/<cp>/resource-data/<server id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  the server's definition (Metadata, JSON)
//	quiesce   "paused" while protect holds the server paused
package server
