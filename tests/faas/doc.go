// Package faas tests Pouch as OpenFaaS functions, with the project's own
// parts only: stack.yml parsed and deployed with go-sdk to the local runtime
// (the real pouch serve binary on a real redis-server) and every function
// invoked, updated, scaled, deleted and deployed back; the pouch-go
// template's shrinkwrapped build contexts built as the Dockerfile builds
// them and each handler run; protects whose hooks go through the OpenFaaS
// invoker to the runtime's /async-function/hook (and /function/hook). With
// a faas-cli binary on PATH (or in FAAS_CLI), faas-cli itself shrinkwraps
// and deploys too.
package faas
