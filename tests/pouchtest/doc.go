// Package pouchtest runs the real pouch binary for end-to-end tests: it
// builds cmd/pouch once per test binary and starts "pouch serve" on a free
// 127.0.0.1 port, waiting until it answers.
package pouchtest
