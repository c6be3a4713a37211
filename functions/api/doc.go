// Package api is the api function: Karbor's v1 REST API (shared/api) as an
// HTTP handler, the same whether served by the local runtime, OpenFaaS or
// AWS Lambda.
package api
