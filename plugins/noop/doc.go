// Package noop is the no-op protection plugin (Karbor's
// karbor-noop-protection-plugin): it handles every Karbor resource type, runs
// every hook of protect, restore, delete and verify, writes nothing anywhere,
// and records what ran, when, in what order, through a Recorder. Tests and
// benchmarks use it to watch the engine.
//
// Parameters (per type or per resource, optional) make a hook misbehave on
// purpose, for fault tests:
//
//	fail_hook:          a hook name (on_main, ...) that fails permanently
//	transient_failures: how many first attempts of each hook fail transiently
//	delay_ms:           how long each hook sleeps
package noop
