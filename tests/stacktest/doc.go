// Package stacktest starts, once per test binary, a set of servers that one
// of the project's start.sh scripts runs (Keystone, Swift, OpenStack), and
// stops it when the binary ends.
//
// A script is called as "start.sh DIR PID": it starts its servers under the
// new directory DIR, watched by the test binary's PID (its watchdog stops
// them if the binary dies), writes DIR/env (KEY=VALUE lines) and exits 0
// when they are ready, 3 when its packages are missing. "stop.sh DIR" stops
// them.
package stacktest
