// Package engine holds tests that drive the engine end to end against a real
// redis-server started by tests/redistest: hook order on a noop graph,
// duplicate deliveries, failures, retries, the sweep, and the 10,000-resource
// benchmark.
package engine
