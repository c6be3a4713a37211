// Package image is the protection plugin of OS::Glance::Image
// (karbor-image-protection-plugin): protect copies an image's bytes out of
// Glance into the bank, restore uploads them into a new image with the
// saved formats and properties, verify re-reads them, delete removes them.
//
// An image that a plan reaches through a server (extra_info.server_id) is
// protected, when enable_server_snapshot is on, as a snapshot of that
// server taken for the protect (Temp_image_name_for_karbor<server id>) and
// deleted afterwards: the server's disk as it is, not the image it booted
// from.
//
// The data is streamed: Glance's download is cut into objects of
// backup_image_object_size bytes, upload_concurrency of them stored at once
// (memory: one object more than that), its MD5 (Glance's checksum) and
// os_hash_value computed on the way and checked against Glance's; a restore
// sends the objects back to Glance as one upload, checking the same sums
// before it lets Glance finish the image.
//
// Bank objects, under /checkpoints/<cp>/resource-data/<image id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  {"resource_id", "server_id", "image_metadata": {"name",
//	          "disk_format", "container_format", "checksum", "os_hash_algo",
//	          "os_hash_value", "size", "min_disk", "min_ram", "visibility",
//	          "protected", "tags", "properties"}, "chunks_num", "chunk_size"}
//	data_1 .. data_<chunks_num>
//	          the image's bytes, chunk_size each, the last one shorter
//
// Provider configuration, [image_backup_plugin]:
//
//	backup_image_object_size = 67108864  # bytes, a multiple of 65536
//	upload_concurrency = 4               # objects stored at once
//	enable_server_snapshot = True
//	poll_interval = 10                   # seconds; poll_timeout = 1800
package image
