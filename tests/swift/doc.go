// Package swift holds the scripts that start and stop a private Swift
// all-in-one (start.sh, stop.sh) and the tests that need the real binary on
// a real Swift: faults (a protect's process killed midway, the proxy
// restarted during an upload) and the benchmark against the swift CLI.
package swift
