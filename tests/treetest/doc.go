// Package treetest snapshots directory trees and compares them, for tests
// that protect a directory, wipe it and restore it.
package treetest
