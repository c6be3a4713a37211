// Package api implements Karbor's v1 REST API (spec §1-§2) over the engine,
// the store and the providers: what the api function serves. Every success is
// 200 with JSON; every error is Karbor's fault wrapper
// {"<faultName>": {"code": N, "message": "..."}} that python-karborclient
// parses.
package api
