// Package invoke is how Pouch's functions call each other: the engine's
// Invoker (Invoke(ctx, function, payload), asynchronous: it returns once the
// call is accepted, and the called function records its own outcome).
//
// Local runs functions in this process, the Invoker of the embedded
// runtime (`pouch serve`): Invoke hands a call to a fixed pool of worker
// goroutines and returns at once, the way an asynchronous OpenFaaS or Lambda
// invocation would. The queue is unbounded on purpose: a hook running inside
// the pool dispatches its successors through Invoke, and with a bounded queue
// a full queue plus busy workers would deadlock. Local does not retry: a
// function's error is logged, retries are the caller's business.
//
// OpenFaaS calls functions through an OpenFaaS gateway (or the local
// runtime, which serves the same routes): POST /async-function/{name}, where
// the gateway queues the call, or /function/{name} from a goroutine; with
// bounded retries on connection errors and 5xx.
//
// Config chooses one from POUCH_INVOKER and the variables in Variables.
// Package invoketest is the conformance suite every Invoker passes.
package invoke
