package keystone_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/stacktest"
)

// keystone is the private Keystone of the package, with its fixtures.
type keystone struct {
	url      string
	admin    *user             // admin, role admin on project admin (Keystone's admin project)
	service  *user             // pouch, role admin on project service: Pouch's service user
	alice    *user             // role member on project A
	bob      *user             // role member on project B
	projects map[string]string // name → id
	startup  string            // start.sh's STARTUP_SECONDS
}

// user is a Keystone user and the project its tokens are scoped to.
type user struct {
	name, id, password string
	project, projectID string
}

var (
	ksOnce sync.Once
	ks     *keystone
	ksErr  error
	stack  = &stacktest.Stack{Script: "keystone", Require: "POUCH_REQUIRE_KEYSTONE", Timeout: 5 * time.Minute}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := stack.Stop(os.Getenv("POUCH_KEEP_KEYSTONE_DIR") != ""); err != nil {
		fmt.Fprintf(os.Stderr, "keystone: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// needKeystone returns the package's Keystone, started at the first call,
// with its fixtures. Without Keystone's packages it skips t, or fails it
// when POUCH_REQUIRE_KEYSTONE is set.
func needKeystone(t *testing.T) *keystone {
	t.Helper()
	_, env := stack.Start(t)
	ksOnce.Do(func() { ks, ksErr = newKeystone(env) })
	if ksErr != nil {
		t.Fatalf("keystone: %v", ksErr)
	}
	return ks
}

// newKeystone creates the fixtures in the Keystone start.sh started.
func newKeystone(env map[string]string) (*keystone, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	k := &keystone{url: env["KEYSTONE_URL"], startup: env["STARTUP_SECONDS"], projects: map[string]string{},
		admin: &user{name: env["ADMIN_USER"], password: env["ADMIN_PASSWORD"], project: env["ADMIN_PROJECT"]}}
	if err := k.fixtures(ctx); err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	fmt.Fprintf(os.Stderr, "keystone: %s ready: start.sh %s s (MariaDB %s s, db_sync and bootstrap %s s, uwsgi %s s), fixtures %.1f s\n",
		k.url, k.startup, env["MYSQL_SECONDS"], env["BOOTSTRAP_SECONDS"], env["UWSGI_SECONDS"], time.Since(start).Seconds())
	return k, nil
}

func secret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fixtures creates projects service, A and B and users pouch, alice and bob
// (see keystone), as an operator would with the openstack CLI.
func (k *keystone) fixtures(ctx context.Context) error {
	tok, err := k.issue(ctx, k.admin)
	if err != nil {
		return err
	}
	_, body, err := k.call(ctx, "GET", "/projects?name="+k.admin.project, tok, nil, http.StatusOK)
	if err != nil {
		return err
	}
	k.admin.projectID = field(body, "projects", 0, "id")
	k.projects[k.admin.project] = k.admin.projectID
	_, body, err = k.call(ctx, "GET", "/roles", tok, nil, http.StatusOK)
	if err != nil {
		return err
	}
	roles := map[string]string{}
	list, _ := body["roles"].([]any)
	for i := range list {
		roles[field(body, "roles", i, "name")] = field(body, "roles", i, "id")
	}
	for _, r := range []string{"admin", "member", "reader"} {
		if roles[r] == "" {
			return fmt.Errorf("no role %s after bootstrap: %v", r, roles)
		}
	}
	for _, name := range []string{"service", "A", "B"} {
		_, body, err := k.call(ctx, "POST", "/projects", tok,
			map[string]any{"project": map[string]any{"name": name, "domain_id": "default"}}, http.StatusCreated)
		if err != nil {
			return err
		}
		k.projects[name] = field(body, "project", "id")
	}
	for _, f := range []struct {
		u             **user
		name, project string
		role          string
	}{
		{&k.service, "pouch", "service", "admin"},
		{&k.alice, "alice", "A", "member"},
		{&k.bob, "bob", "B", "member"},
	} {
		u := &user{name: f.name, password: secret(), project: f.project, projectID: k.projects[f.project]}
		// No default project: a token requested without a scope is unscoped.
		_, body, err := k.call(ctx, "POST", "/users", tok, map[string]any{"user": map[string]any{
			"name": u.name, "password": u.password, "domain_id": "default", "enabled": true}}, http.StatusCreated)
		if err != nil {
			return err
		}
		u.id = field(body, "user", "id")
		if _, _, err := k.call(ctx, "PUT", "/projects/"+u.projectID+"/users/"+u.id+"/roles/"+roles[f.role], tok, nil,
			http.StatusNoContent); err != nil {
			return err
		}
		*f.u = u
	}
	return nil
}

// field walks a decoded JSON body along path (keys and indices); "" if
// anything is missing.
func field(v any, path ...any) string {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return ""
			}
			v = l[k]
		}
	}
	s, _ := v.(string)
	return s
}

var ksClient = &http.Client{Timeout: time.Minute}

// call sends a request to Keystone's v3 API with token tok and checks that
// the answer has status want.
func (k *keystone) call(ctx context.Context, method, path, tok string, body any, want int) (http.Header, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.url+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	resp, err := ksClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("keystone %s %s: %s, want %d: %s", method, path, resp.Status, want, raw)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, nil, fmt.Errorf("keystone %s %s: %w", method, path, err)
		}
	}
	return resp.Header, out, nil
}

// issue gets a token for u with its password, scoped to u's project (none:
// unscoped).
func (k *keystone) issue(ctx context.Context, u *user) (string, error) {
	a := map[string]any{"identity": map[string]any{"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{"name": u.name, "password": u.password,
			"domain": map[string]any{"name": "Default"}}}}}
	if u.project != "" {
		a["scope"] = map[string]any{"project": map[string]any{"name": u.project, "domain": map[string]any{"name": "Default"}}}
	}
	h, _, err := k.call(ctx, "POST", "/auth/tokens?nocatalog", "", map[string]any{"auth": a}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	return h.Get("X-Subject-Token"), nil
}

// token issues a token for u, scoped to its project.
func (k *keystone) token(t *testing.T, u *user) string {
	t.Helper()
	tok, err := k.issue(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// revoke revokes tok (the token revokes itself).
func (k *keystone) revoke(t *testing.T, tok string) {
	t.Helper()
	req, err := http.NewRequest("DELETE", k.url+"/auth/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := ksClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %s", resp.Status)
	}
}

// expiringToken returns a token of u that expires at (about) until: one
// issued from an application credential that expires then, since Keystone
// caps such a token's expiry at the credential's.
func (k *keystone) expiringToken(t *testing.T, u *user, until time.Time) string {
	t.Helper()
	ctx := context.Background()
	tok := k.token(t, u)
	_, body, err := k.call(ctx, "POST", "/users/"+u.id+"/application_credentials", tok, map[string]any{
		"application_credential": map[string]any{"name": "short-" + secret(),
			"expires_at": until.UTC().Format("2006-01-02T15:04:05Z")}}, http.StatusCreated)
	if err != nil {
		t.Fatal(err)
	}
	id, sec := field(body, "application_credential", "id"), field(body, "application_credential", "secret")
	h, body, err := k.call(ctx, "POST", "/auth/tokens?nocatalog", "", map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"application_credential"},
			"application_credential": map[string]any{"id": id, "secret": sec}}}}, http.StatusCreated)
	if err != nil {
		t.Fatal(err)
	}
	exp := field(body, "token", "expires_at")
	if !strings.HasPrefix(exp, until.UTC().Format("2006-01-02T15:04:05")) {
		t.Fatalf("token from an application credential expiring at %s expires at %s", until.UTC(), exp)
	}
	return h.Get("X-Subject-Token")
}
