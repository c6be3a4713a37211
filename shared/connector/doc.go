// Package connector is the local runtime's cron connector. It follows the
// contract of the OpenFaaS cron connector (openfaas/cron-connector): it
// lists the functions of a gateway (GET /system/functions), takes those
// whose annotations say topic "cron-function" with a 5-field cron
// "schedule", and at each time their schedule matches POSTs an empty body
// to /function/<name> with the headers X-Connector: cron-connector and
// X-Topic: cron-function. So the tick function is invoked the same way
// under `pouch serve` as on OpenFaaS.
package connector
