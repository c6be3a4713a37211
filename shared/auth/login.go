package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrLoginRefused: Keystone refused a Login's user, password or project.
var ErrLoginRefused = errors.New("keystone refused the credentials")

// Login is a password authentication against a Keystone, as a restore's
// restore_target and restore_auth give it.
type Login struct {
	URL        string // Keystone, with or without "/v3"
	User       string
	Password   string
	UserDomain string // name; "Default" when empty
	// The project to scope to: by id, or by name in ProjectDomain
	// ("Default" when empty).
	ProjectID, ProjectName, ProjectDomain string
}

// LoginFrom reads a restore_auth body: {"type": "password", "username",
// "password"} plus the optional "user_domain_name", "project_id",
// "project_name" and "project_domain_name". Without a project, the token is
// scoped to defaultProject (an id).
func LoginFrom(url string, body map[string]any, defaultProject string) Login {
	str := func(k string) string { s, _ := body[k].(string); return s }
	l := Login{URL: url, User: str("username"), Password: str("password"), UserDomain: str("user_domain_name"),
		ProjectID: str("project_id"), ProjectName: str("project_name"), ProjectDomain: str("project_domain_name")}
	if l.ProjectID == "" && l.ProjectName == "" {
		l.ProjectID = defaultProject
	}
	return l
}

// Token authenticates and returns a project-scoped token. Errors wrap
// ErrLoginRefused when Keystone said no, ErrUnavailable when it could not
// be asked.
func (l Login) Token(ctx context.Context, client *http.Client) (string, error) {
	base := strings.TrimRight(l.URL, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	project := map[string]any{"id": l.ProjectID}
	if l.ProjectID == "" {
		project = map[string]any{"name": l.ProjectName, "domain": map[string]any{"name": orDefault(l.ProjectDomain)}}
	}
	tok, _, status, err := passwordToken(ctx, client, base, l.User, l.Password, orDefault(l.UserDomain),
		map[string]any{"project": project})
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %s: %w", ErrUnavailable, base, err)
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound ||
		status == http.StatusBadRequest:
		return "", fmt.Errorf("%w: user %q at %s (HTTP %d)", ErrLoginRefused, l.User, base, status)
	case status != http.StatusCreated:
		return "", fmt.Errorf("%w: %s answered HTTP %d", ErrUnavailable, base, status)
	}
	return tok, nil
}

func orDefault(domain string) string {
	if domain == "" {
		return "Default"
	}
	return domain
}
