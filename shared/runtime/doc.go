// Package runtime is the local OpenFaaS provider of the embedded Pouch
// runtime (`pouch serve`): every function is an http.Handler in this process,
// published behind the faas-provider routes (github.com/openfaas/faas-provider
// v0.25.12 types) on a plain net/http ServeMux.
//
// The provider knows the functions it was built with (Pouch's api, hook and
// tick) and starts with all of them deployed. The provider API works on
// them as OpenFaaS's does:
//
//	GET    /system/functions              list, with image, env, labels, annotations, replicas
//	POST   /system/functions              deploy (or redeploy) a known function, any image
//	PUT    /system/functions              update a deployed function (404 if not deployed)
//	DELETE /system/functions              delete: the function answers 404 until deployed again
//	GET    /system/function/{name}        status
//	POST   /system/scale-function/{name}  set the replicas (bookkeeping: a call scales 0 to 1)
//	GET    /system/namespaces, /system/info, /healthz
//	*      /function/{name}[/...]         call, with "/function/{name}" stripped from the path
//	POST   /async-function/{name}[/...]   queue the call: 202 and X-Call-Id
//
// A deployment binds the function of its service name; one whose name the
// provider has no handler for is refused with 400, since an image alone
// cannot run here. Asynchronous calls run on a pool of workers fed by an
// unbounded queue; with an X-Callback-Url the result is POSTed there with
// the call's X-Call-Id, X-Function-Status, X-Duration-Seconds and
// X-Function-Name, as OpenFaaS's queue worker does.
//
// Serve listens on loopback addresses only. faas-provider's bootstrap.Serve
// is not used: it binds every interface and can run only once per process.
package runtime
