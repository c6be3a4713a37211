// Package auth tells who sent an API request: Karbor's "noauth" strategy
// (token "user:project", the embedded default) or Keystone v3 token
// validation (Keystone, as keystonemiddleware's authtoken does for Karbor:
// the service authenticates with a password and validates each user token
// with GET /v3/auth/tokens; only project-scoped tokens pass; valid tokens are
// cached until they expire, at most a TTL, 5 minutes by default, which bounds
// how late a revocation is seen). It yields an Identity; what that identity
// may do is the policy package's business.
//
// Errors: ErrUnauthorized when the request has no valid token (HTTP 401),
// ErrUnavailable when Keystone cannot say (HTTP 503).
package auth
