// Package runtime is the local OpenFaaS-style provider of the embedded Pouch
// runtime (`pouch serve`): every function is an http.Handler in this process,
// published behind the faas-provider routes (github.com/openfaas/faas-provider
// v0.25.12) on a plain net/http ServeMux.
//
// The routes are those the OpenFaaS tooling and the cron-connector read:
// GET /system/functions, GET /system/function/{name}, GET /system/namespaces,
// GET /system/info, GET|HEAD /healthz, and the proxy /function/{name}[/...],
// which strips "/function/{name}" before calling the function's handler.
// Deploy, update, delete and scale answer 501 for now.
//
// Serve listens on loopback addresses only. faas-provider's bootstrap.Serve
// is not used: it binds every interface and can run only once per process.
package runtime
