// Package swifttest gives tests a real Swift all-in-one (Debian's swift
// packages, started by tests/swift/start.sh on 127.0.0.1), one per test
// binary, stopped by start.sh's watchdog when the test process exits, and
// banks on it, each in a fresh container.
//
// Without the packages the tests that need Swift skip, unless
// POUCH_REQUIRE_SWIFT is set (CI sets it): then they fail.
package swifttest
