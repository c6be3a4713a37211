// Package bank defines where checkpoint data and metadata live: the Bank
// interface every bank plugin implements (Karbor's object-store interface plus
// leases), key rules, and small helpers shared by all banks.
//
// Keys are slash-separated paths such as "/checkpoints/<id>/index.json". They
// are normalised ("/a//b" -> "/a/b", leading "/" added) and must match
// [A-Za-z0-9/_.@-]+, not end in "/" and hold no "." or ".." segment.
//
// A lease says that an owner (an operation) is alive. Its owner acquires it
// with a time to live and renews it while it works; once it is not renewed it
// expires, and whatever the owner left unfinished is a zombie that garbage
// collection may clean up. Validity is always asked of the bank itself, never
// derived from a listing.
//
// The conformance suite every bank must pass is in package banktest.
package bank
