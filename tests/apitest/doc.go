// Package apitest assembles Pouch's API as the local runtime does, on a
// private redis-server, behind httptest on 127.0.0.1, and checks its
// answers: every response is application/json, errors are Karbor's fault
// shape. The API, Keystone and fuzz suites share it.
package apitest
