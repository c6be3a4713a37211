package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// ErrUnauthorized: the request carries no valid token (HTTP 401).
var ErrUnauthorized = errors.New("the request you have made requires authentication")

// Identity is who sent a request, as its token says.
type Identity struct {
	UserID         string
	ProjectID      string
	Roles          []string
	IsAdmin        bool // has the admin role (policy rule context_is_admin)
	IsAdminProject bool
	Token          string
	ExpiresAt      time.Time // zero: does not expire (noauth)
}

// HasRole reports whether the identity holds role (case-insensitive).
func (id *Identity) HasRole(role string) bool {
	for _, r := range id.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

// NoAuth is Karbor's noauth strategy: the token is "user:project" (or just a
// user, who is then also the project) and the caller is an admin.
type NoAuth struct{}

// Authenticate reads X-Auth-Token.
func (NoAuth) Authenticate(_ context.Context, r *http.Request) (*Identity, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return nil, ErrUnauthorized
	}
	user, project, ok := strings.Cut(tok, ":")
	if !ok {
		project = user
	}
	return &Identity{UserID: user, ProjectID: project, Roles: []string{"admin"}, IsAdmin: true,
		IsAdminProject: true, Token: tok}, nil
}
