// Package scheduler tests the tick's firing of triggers on a real
// redis-server, with an injected clock: no test waits for a minute.
package scheduler
