package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKeystone answers POST and GET /v3/auth/tokens as Keystone does, for
// the service user "svc" (password "pw", project "service") and the user
// tokens in tokens.
type fakeKeystone struct {
	t       *testing.T
	mu      sync.Mutex
	tokens  map[string]map[string]any // user token → its "token" body
	svc     map[string]bool           // valid service tokens
	issued  int                       // service authentications
	checks  int                       // validations
	fail    int                       // status to answer validations with (0: normal)
	svcLife time.Duration
}

func newFake(t *testing.T) (*fakeKeystone, *httptest.Server) {
	f := &fakeKeystone{t: t, tokens: map[string]map[string]any{}, svc: map[string]bool{}, svcLife: time.Hour}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeKeystone) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/v3/auth/tokens" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodPost:
		var b struct {
			Auth struct {
				Identity struct {
					Password struct {
						User struct {
							Name, Password string
							Domain         struct{ Name string }
						}
					}
				}
				Scope struct {
					Project struct {
						Name   string
						Domain struct{ Name string }
					}
				}
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		u, p := b.Auth.Identity.Password.User, b.Auth.Scope.Project
		if u.Name != "svc" || u.Password != "pw" || u.Domain.Name != "Default" || p.Name != "service" || p.Domain.Name != "Default" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": {"code": 401}}`)
			return
		}
		f.issued++
		tok := fmt.Sprintf("svc-%d", f.issued)
		f.svc[tok] = true
		w.Header().Set("X-Subject-Token", tok)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{
			"expires_at": time.Now().Add(f.svcLife).UTC().Format("2006-01-02T15:04:05.000000Z")}})
	case http.MethodGet:
		f.checks++
		if !f.svc[r.Header.Get("X-Auth-Token")] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.fail != 0 {
			w.WriteHeader(f.fail)
			return
		}
		body, ok := f.tokens[r.Header.Get("X-Subject-Token")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": {"code": 404, "message": "Could not find token"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"token": body})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeKeystone) add(tok string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[tok] = body
}

func (f *fakeKeystone) counts() (issued, checks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued, f.checks
}

func tokenOf(user, project string, expires time.Time, roles ...string) map[string]any {
	var rs []any
	for _, r := range roles {
		rs = append(rs, map[string]any{"id": r + "-id", "name": r})
	}
	b := map[string]any{"user": map[string]any{"id": user}, "roles": rs, "methods": []string{"password"},
		"expires_at": expires.UTC().Format("2006-01-02T15:04:05.000000Z")}
	if project != "" {
		b["project"] = map[string]any{"id": project, "name": project}
	}
	return b
}

func newTestKeystone(t *testing.T, url string, mod func(*KeystoneConfig)) *Keystone {
	t.Helper()
	cfg := KeystoneConfig{URL: url, User: "svc", Password: "pw", Project: "service"}
	if mod != nil {
		mod(&cfg)
	}
	k, err := NewKeystone(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func request(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/p/plans", nil)
	if tok != "" {
		r.Header.Set("X-Auth-Token", tok)
	}
	return r
}

func TestKeystoneIdentity(t *testing.T) {
	f, srv := newFake(t)
	hour := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	f.add("member", tokenOf("u1", "p1", hour, "member", "reader"))
	adminTok := tokenOf("u2", "p2", hour, "Admin")
	adminTok["is_admin_project"] = false
	f.add("admin", adminTok)
	f.add("unscoped", tokenOf("u3", "", hour))
	f.add("expired", tokenOf("u4", "p4", time.Now().Add(-time.Second)))
	f.add("no zone", tokenOf("u6", "p6", hour))
	f.tokens["no zone"]["expires_at"] = hour.Format("2006-01-02T15:04:05")
	f.add("bad expiry", map[string]any{"user": map[string]any{"id": "u5"}, "project": map[string]any{"id": "p5"}, "expires_at": "soon"})
	k := newTestKeystone(t, srv.URL, nil) // "/v3" is appended

	for _, tc := range []struct {
		tok  string
		want *Identity
		err  error
	}{
		{"member", &Identity{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}, IsAdminProject: true, Token: "member", ExpiresAt: hour}, nil},
		{"admin", &Identity{UserID: "u2", ProjectID: "p2", Roles: []string{"Admin"}, IsAdmin: true, Token: "admin", ExpiresAt: hour}, nil},
		{"no zone", &Identity{UserID: "u6", ProjectID: "p6", IsAdminProject: true, Token: "no zone", ExpiresAt: hour.Truncate(time.Second)}, nil},
		{"", nil, ErrUnauthorized},
		{"garbage", nil, ErrUnauthorized},
		{"unscoped", nil, ErrUnauthorized},
		{"expired", nil, ErrUnauthorized},
		{"bad expiry", nil, ErrUnavailable},
	} {
		id, err := k.Authenticate(context.Background(), request(tc.tok))
		if !errors.Is(err, tc.err) || (tc.err != nil) != (err != nil) {
			t.Errorf("%q: error %v, want %v", tc.tok, err, tc.err)
			continue
		}
		if tc.want != nil && (id.UserID != tc.want.UserID || id.ProjectID != tc.want.ProjectID || !slices.Equal(id.Roles, tc.want.Roles) ||
			id.IsAdmin != tc.want.IsAdmin || id.IsAdminProject != tc.want.IsAdminProject || id.Token != tc.want.Token || !id.ExpiresAt.Equal(tc.want.ExpiresAt)) {
			t.Errorf("%q: identity %+v, want %+v", tc.tok, id, tc.want)
		}
	}
	if issued, _ := f.counts(); issued != 1 {
		t.Errorf("the service authenticated %d times, want 1", issued)
	}

	// IsAdmin decides is_admin when set.
	k = newTestKeystone(t, srv.URL+"/v3/", func(c *KeystoneConfig) {
		c.IsAdmin = func(id *Identity) bool { return id.HasRole("member") }
	})
	if id, err := k.Validate(context.Background(), "member"); err != nil || !id.IsAdmin {
		t.Errorf("member with IsAdmin: %+v %v", id, err)
	}
}

func TestKeystoneCache(t *testing.T) {
	f, srv := newFake(t)
	start := time.Now()
	f.add("long", tokenOf("u1", "p1", start.Add(time.Hour), "member"))
	f.add("short", tokenOf("u1", "p1", start.Add(time.Minute), "member"))
	now := start
	k := newTestKeystone(t, srv.URL, nil)
	k.now = func() time.Time { return now }
	ctx := context.Background()
	step := func(tok string, wantChecks int, wantErr error) {
		t.Helper()
		_, before := f.counts()
		id, err := k.Validate(ctx, tok)
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("%s at +%v: %v, want %v", tok, now.Sub(start), err, wantErr)
		}
		if id != nil {
			id.Roles[0] = "changed" // callers get copies
		}
		if _, after := f.counts(); after-before != wantChecks {
			t.Fatalf("%s at +%v: %d validations, want %d", tok, now.Sub(start), after-before, wantChecks)
		}
	}
	step("long", 1, nil)
	step("long", 0, nil) // cached
	step("short", 1, nil)
	now = start.Add(59 * time.Second)
	step("short", 0, nil)
	now = start.Add(61 * time.Second) // past the token's expiry: asked again
	f.add("short", tokenOf("u1", "p1", start.Add(time.Minute), "member"))
	step("short", 1, ErrUnauthorized)
	now = start.Add(4 * time.Minute)
	step("long", 0, nil)
	f.mu.Lock()
	delete(f.tokens, "long") // revoked
	f.mu.Unlock()
	now = start.Add(5*time.Minute + time.Second) // past the TTL: the revocation is seen
	step("long", 1, ErrUnauthorized)
	step("long", 1, ErrUnauthorized) // failures are not cached

	// No cache.
	f.add("long", tokenOf("u1", "p1", start.Add(time.Hour), "member"))
	k = newTestKeystone(t, srv.URL, func(c *KeystoneConfig) { c.CacheTTL = -1 })
	step("long", 1, nil)
	step("long", 1, nil)

	// The cache is bounded.
	k = newTestKeystone(t, srv.URL, func(c *KeystoneConfig) { c.CacheSize = 3 })
	for i := range 10 {
		tok := fmt.Sprintf("t%d", i)
		f.add(tok, tokenOf("u1", "p1", start.Add(time.Hour), "member"))
		step(tok, 1, nil)
		step(tok, 0, nil)
	}
	if n := len(k.cache); n > 3 {
		t.Errorf("%d cached tokens, want at most 3", n)
	}
}

func TestKeystoneService(t *testing.T) {
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)

	// A refused service token is renewed once.
	f, srv := newFake(t)
	f.add("tok", tokenOf("u1", "p1", hour, "member"))
	k := newTestKeystone(t, srv.URL, func(c *KeystoneConfig) { c.CacheTTL = -1 })
	if _, err := k.Validate(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	clear(f.svc)
	f.mu.Unlock()
	if _, err := k.Validate(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if issued, checks := f.counts(); issued != 2 || checks != 3 {
		t.Errorf("%d service authentications and %d validations, want 2 and 3", issued, checks)
	}

	// A service token about to expire is renewed before use.
	f.mu.Lock()
	f.svcLife = 30 * time.Second
	f.mu.Unlock()
	k = newTestKeystone(t, srv.URL, func(c *KeystoneConfig) { c.CacheTTL = -1 })
	k.Validate(ctx, "tok")
	now := time.Now()
	k.now = func() time.Time { return now.Add(25 * time.Second) }
	k.Validate(ctx, "tok")
	if issued, _ := f.counts(); issued != 4 {
		t.Errorf("%d service authentications, want 4", issued)
	}

	// Failures of Keystone or of the service's credentials are not the
	// caller's: ErrUnavailable, never ErrUnauthorized.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for name, tc := range map[string]struct {
		url  string
		mod  func(*KeystoneConfig)
		fail int
	}{
		"keystone down":     {url: down.URL},
		"wrong password":    {url: srv.URL, mod: func(c *KeystoneConfig) { c.Password = "wrong" }},
		"keystone fails":    {url: srv.URL, fail: http.StatusInternalServerError},
		"validation denied": {url: srv.URL, fail: http.StatusForbidden},
	} {
		f.mu.Lock()
		f.fail = tc.fail
		f.mu.Unlock()
		k := newTestKeystone(t, tc.url, tc.mod)
		_, err := k.Validate(ctx, "tok")
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}

func TestNewKeystone(t *testing.T) {
	for _, tc := range []struct {
		cfg  KeystoneConfig
		want string
	}{
		{KeystoneConfig{URL: "127.0.0.1:5000", User: "u", Password: "p", Project: "s"}, "URL"},
		{KeystoneConfig{URL: "ftp://h/v3", User: "u", Password: "p", Project: "s"}, "URL"},
		{KeystoneConfig{URL: "http://h/v3", User: "u", Project: "s"}, "password"},
		{KeystoneConfig{URL: "http://h/v3", Password: "p", Project: "s"}, "user"},
	} {
		if _, err := NewKeystone(tc.cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.cfg, err, tc.want)
		}
	}
	for in, want := range map[string]string{
		"http://h:5000": "http://h:5000/v3", "http://h:5000/v3/": "http://h:5000/v3", "https://h/identity": "https://h/identity/v3",
	} {
		k, err := NewKeystone(KeystoneConfig{URL: in, User: "u", Password: "p", Project: "s"}, nil)
		if err != nil || k.base != want {
			t.Errorf("%s: base %v %v, want %s", in, k, err, want)
		}
	}
}
