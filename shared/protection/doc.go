// Package protection is the contract between the engine and protection
// plugins: a Plugin hands out the hooks (on_prepare_begin, on_prepare_finish,
// on_main, on_complete) of an operation on one resource, and a Protectable
// lists instances of a resource type and the resources they depend on.
//
// A hook runs in a stateless function: everything it may use arrives in its
// HookContext (the resource, merged parameters, the bank, progress and
// status reporters). Hooks should be safe to run again after a crash: write
// whole objects, overwrite rather than append.
package protection
