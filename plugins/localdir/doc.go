// Package localdir is the protection plugin for a directory of the local file
// system, resource type "Pouch::Local::Directory". With the file-system bank
// it lets Pouch's embedded default protect and restore real data without any
// cloud.
//
// A resource is a directory inside one of the configured allowed roots. Its
// name is the directory's absolute path and its id a name-based (SHA-1) UUID of
// that path, so ids are stable and URL-safe. Every hook checks again that the
// directory (with the symlinks of its existing components resolved) is inside
// an allowed root; the plugin never reads or writes outside them.
//
// Protect walks the directory without following symlinks and streams every
// regular file into the bank in chunks of at most chunk_size bytes; restore
// streams them back, checking each chunk's SHA-256 before writing it, into a
// temporary file that is renamed into place once the whole file is verified.
// Directories, symlinks (target kept verbatim), modes and modification times
// are restored; devices, sockets and FIFOs are skipped and noted.
//
// Bank objects of one resource, under
// /checkpoints/<checkpoint>/resource-data/<resource id>/:
//
//	status      "protecting", then "available" (or "error")
//	data_<n>    file content, chunks numbered 1..N across the whole directory
//	manifest    JSON: every entry in walk order with kind, mode, mtime, size,
//	            symlink target, chunks (number, size, SHA-256) and the file's
//	            SHA-256
//	metadata    JSON summary: path, files, dirs, symlinks, skipped, bytes,
//	            chunks, chunk_size and the manifest's SHA-256
//
// Provider configuration:
//
//	[local_directory_plugin]
//	allowed_roots = /srv/data, /home    # required; may be repeated
//	chunk_size = 8388608                # bytes, at most 256 MiB
//	instance_depth = 2                  # levels below each root to list
//
// Protect parameters: exclude (glob patterns matched against the path relative
// to the directory; a pattern without "/" also matches base names). Restore
// parameters: restore_path (absolute directory inside an allowed root; default
// the restore target if it is an absolute path, else the original directory).
package localdir
