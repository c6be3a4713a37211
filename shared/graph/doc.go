// Package graph builds the resource graph of an operation: the plan's
// resources plus everything they depend on, as a DAG whose nodes are in
// depth-first post-order (children before parents). It also reads and writes
// Karbor's resource_graph serialisation (spec §4.4).
package graph
