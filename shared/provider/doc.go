// Package provider loads protection providers from Karbor-style .conf files:
// a [provider] section with name, id, description, enabled, one bank and
// repeated plugin lines; every other section configures the bank or a plugin.
//
//	[provider]
//	name = Local Directory Provider
//	id = 5c6f6b3a-...
//	bank = pouch-fs-bank-plugin
//	plugin = pouch-local-directory-plugin
//	enabled = True
//
//	[file_system_bank_plugin]
//	file_system_bank_path = /var/lib/pouch/bank
//
// Errors name the file and key. Karbor's plugin names (and the
// "karbor.protections." prefix) are accepted where Pouch has the plugin.
package provider
