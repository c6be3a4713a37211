// Package embedded is Pouch's embedded default: every function (api, hook,
// tick) in one local process, behind the local OpenFaaS-style provider, with
// hooks dispatched through the in-process invoker (or, with the openfaas
// invoker, through an OpenFaaS gateway: by default this server's own
// /async-function/hook, whose queue runs them), a local cron invoking
// tick, Redis started as a child process (or an embedded, non-durable one),
// and the shipped providers (local directory, noop) on a local-directory bank.
package embedded
