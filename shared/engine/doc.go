// Package engine runs protect, restore and delete operations as a DAG of hook
// tasks whose progress lives in Redis, so that any number of stateless hook
// functions can run them.
//
// An operation starts (Protect, Restore, Delete) by building the resource
// graph, writing the checkpoint's metadata to the bank, taking a bank lease
// owned by the operation and storing the task DAG in Redis: four tasks per
// resource (on_prepare_begin, on_prepare_finish, on_main, on_complete) with
// Karbor's edges (spec §4.3), and a pending-dependency counter per task. The
// ready tasks go through an Invoker to the hook function, which calls
// RunTask: it claims the task (begin), runs the plugin's hook with bounded
// retries of transient errors, then reports the result in one atomic,
// idempotent Lua step (complete or fail) that returns the tasks that became
// ready, which it dispatches in turn. Whoever completes the last task (or the
// last task in flight after a failure) finishes the operation: checkpoint,
// restore and operation log get their final status, the lease is released
// and the operation's Redis keys expire.
//
// Sweep, run by the tick function, finishes operations whose finisher died.
package engine
