// Package invoke runs Pouch functions in-process.
//
// Local is the Invoker of the embedded runtime (`pouch serve`): every
// function (api, hook, tick) lives in the same process, and Invoke hands a
// call to a fixed pool of worker goroutines and returns at once, the way an
// asynchronous OpenFaaS or Lambda invocation would.
//
// The queue is unbounded on purpose: a hook running inside the pool dispatches
// its successors through Invoke, and with a bounded queue a full queue plus
// busy workers would deadlock. Local does not retry: a function's error is
// logged and counted, retries are the caller's business.
package invoke
