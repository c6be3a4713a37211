// Package swift is the OpenStack Swift bank (karbor-swift-bank-plugin), on
// github.com/ncw/swift/v2 with tempauth (v1) or Keystone v3 auth.
//
// Objects live in one container (bank_swift_object_container, "karbor"),
// their keys without the leading "/". An object larger than one segment is
// stored as a static large object: its segments, uploaded in parallel by a
// bounded number of workers, each held in memory once, each sent with its MD5
// as ETag and retried with backoff on 5xx, timeouts and broken connections,
// go to <container>_segments under <key>/<upload id>/; then the manifest
// replaces the object. Every object carries the MD5 of its whole content,
// and Get checks it at the end of the stream (bank.ErrCorrupt on a
// mismatch); a read broken midway resumes from where it stopped, on the
// same object (If-Match).
//
// Leases are objects <container>_leases/<owner> written with X-Delete-At:
// acquire is a PUT with If-None-Match: * (412: held), renew a POST (which
// Swift refuses with 404 for an expired or deleted object, so a renew never
// brings a lease back), validity a HEAD, never a listing: listings are
// eventually consistent and keep expired objects until the expirer runs.
package swift
