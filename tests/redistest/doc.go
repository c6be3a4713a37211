// Package redistest gives tests a private, real redis-server.
//
// Start runs one redis-server per test (free port on 127.0.0.1, data in
// t.TempDir(), no AOF) and stops it at cleanup. When redis-server is not
// installed the test fails: it never skips, so a missing dependency cannot
// turn into a silently green run.
//
// CountingHook counts the network round trips and commands a client sends,
// to measure how many round trips a piece of work costs.
package redistest
