// Package hook is the hook function: it runs one hook of one resource of an
// operation (a Task sent by the engine) and advances the operation's graph,
// dispatching the tasks that become ready. It holds no state between calls.
package hook
