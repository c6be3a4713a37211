// Package invoketest is the conformance suite of Pouch's invokers: what the
// engine relies on from an Invoker, checked against a real one.
//
// An invoker's test calls Run with a setup function that builds a fresh
// Harness whose Function, when invoked, reaches the sink Run gives it. The
// suite checks that payloads arrive byte for byte (empty, JSON, 256 KiB of
// binary), that 200 concurrent calls all arrive (at least once), that Invoke
// returns while the function is still running, that the function's error
// does not come back from Invoke, that the caller may reuse its buffer once
// Invoke returns, that an already cancelled context is refused and, when
// the invoker can tell, that an unknown function is.
package invoketest
