package keystone_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/policy"
	"github.com/pouchdp/pouch/tests/apitest"
)

const noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"

// obj is a JSON object in request bodies.
type obj = map[string]any

// setup varies the Pouch of a test.
type setup struct {
	cacheTTL    time.Duration // Keystone's cache TTL (0: the default, 5 min)
	policyFile  string
	keystoneURL string // instead of the counting proxy's
	password    string // instead of the service user's
}

// pouch is Pouch assembled as tests/api does it (real redis-server, the
// shipped providers, an in-process invoker), authenticating with the
// package's Keystone through a counting proxy, served by httptest.
type pouch struct {
	*apitest.Env
	proxy *proxy
}

// proxy forwards to Keystone and counts token validations and service
// authentications.
type proxy struct {
	srv             *httptest.Server
	validations     atomic.Int64 // GET /v3/auth/tokens
	authentications atomic.Int64 // POST /v3/auth/tokens
}

func newProxy(t *testing.T, k *keystone) *proxy {
	t.Helper()
	target, err := url.Parse(k.url)
	if err != nil {
		t.Fatal(err)
	}
	target.Path = ""
	p := &proxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/auth/tokens") {
			switch r.Method {
			case http.MethodGet:
				p.validations.Add(1)
			case http.MethodPost:
				p.authentications.Add(1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func newPouch(t *testing.T, k *keystone, s setup) *pouch {
	t.Helper()
	pol, err := policy.New(s.policyFile)
	if err != nil {
		t.Fatal(err)
	}
	p := &pouch{proxy: newProxy(t, k)}
	kc := auth.KeystoneConfig{URL: p.proxy.srv.URL + "/v3", User: k.service.name, Password: k.service.password,
		Project: k.service.project, CacheTTL: s.cacheTTL, Timeout: 30 * time.Second, IsAdmin: pol.IsAdmin}
	if s.keystoneURL != "" {
		kc.URL, kc.Timeout = s.keystoneURL, 2*time.Second
	}
	if s.password != "" {
		kc.Password = s.password
	}
	authn, err := auth.NewKeystone(kc, apitest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	p.Env = apitest.New(t, apitest.Options{Auth: authn, Policy: pol})
	return p
}

// caller is a user with a token.
type caller struct {
	*user
	token string
}

func (k *keystone) caller(t *testing.T, u *user) *caller {
	t.Helper()
	return &caller{user: u, token: k.token(t, u)}
}

// as sends a request as c, under /v1/<c's project>/.
func (p *pouch) as(t *testing.T, c *caller, method, path string, body any) *response {
	t.Helper()
	return p.Do(t, c.token, method, "/v1/"+c.projectID+"/"+path, body)
}

// response is one API answer (apitest.Response).
type response = apitest.Response

// plan creates a plan of the noop provider as c and returns its id.
func (p *pouch) plan(t *testing.T, c *caller, name string) string {
	t.Helper()
	return p.as(t, c, "POST", "plans", obj{"plan": obj{"name": name, "provider_id": noopProvider, "parameters": obj{},
		"resources": []obj{{"id": "00000000-0000-4000-8000-000000000001", "type": "OS::Nova::Server", "name": "vm1"}}}}).
		OK(t).Str(t, "plan", "id")
}

// waitStatus polls GET path as c until the object under key has status
// want (30 s at most).
func (p *pouch) waitStatus(t *testing.T, c *caller, path, key, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := p.as(t, c, "GET", path, nil).OK(t).Str(t, key, "status")
		if st == want {
			return
		}
		if time.Now().After(deadline) || st == "error" || st == "fail" {
			t.Fatalf("GET %s: status %s, want %s", path, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
