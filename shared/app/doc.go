// Package app assembles Pouch from configuration: Redis, the providers with
// their banks and plugins, the protectable catalog, the record store, the
// engine and the API. Every function (api, hook, tick) and the local runtime
// build the same App; only the Invoker differs.
package app
