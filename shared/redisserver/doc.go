// Package redisserver starts Redis for the local runtime and for tests.
//
// Start runs the real redis-server as a child process bound to 127.0.0.1,
// with its data (and, when asked, its append-only file) in a given directory,
// and waits until it answers PING. StartEmbedded runs miniredis in-process
// instead: handy when redis-server is not installed, but its state is not
// durable and it lacks FUNCTION/FCALL. Auto picks the first when the binary
// is on PATH and falls back to the second with a loud warning.
package redisserver
