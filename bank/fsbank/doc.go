// Package fsbank is the local-directory bank, Pouch's embedded default
// (Karbor's karbor-fs-bank-plugin). Object "/a/b" is the file
// <path>/<container>/a/b; writes go to a temporary file that is fsynced and
// renamed over the object, so a reader or a crash sees the old object or the
// new one. Leases are files under <path>/leases holding their expiry time.
//
// Provider configuration:
//
//	[file_system_bank_plugin]
//	file_system_bank_path = /var/lib/pouch/bank
//	bank_object_container = karbor
package fsbank
