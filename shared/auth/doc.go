// Package auth tells who sent an API request: Karbor's "noauth" strategy
// (token "user:project", the embedded default) or Keystone v3 token
// validation. It yields an Identity; what that identity may do is the
// policy package's business.
package auth
