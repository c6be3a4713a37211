// Package logtest gives tests a concurrency-safe buffer to collect logs or a
// process's output, and a slog logger writing into one.
package logtest
