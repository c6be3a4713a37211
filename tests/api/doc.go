// Package api (tests only) drives Karbor's v1 REST API as Pouch serves it, over HTTP
// (httptest) against a real redis-server started by tests/redistest: every
// route, its happy path and its refusals (status, fault shape, Content-Type),
// and a full protect/delete/restore cycle of a local directory.
package api
