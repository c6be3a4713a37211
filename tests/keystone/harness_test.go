package keystone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/policy"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/redistest"
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
	srv   *httptest.Server
	inv   *invoke.Local
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
	addr := redistest.Addr(t)
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(provDir); err != nil {
		t.Fatal(err)
	}
	logTo := io.Discard
	if os.Getenv("POUCH_TEST_LOG") != "" {
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
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
	authn, err := auth.NewKeystone(kc, log)
	if err != nil {
		t.Fatal(err)
	}
	p.inv = invoke.NewLocal(8, log)
	a, err := app.New(context.Background(), app.Config{
		RedisAddr: addr, ProvidersDir: provDir,
		Env:    app.EnvWith(map[string]string{"POUCH_DATA_DIR": filepath.Join(dir, "data"), "POUCH_ALLOWED_ROOTS": dir}),
		Engine: engine.Config{RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond},
		Auth:   authn, Policy: pol,
	}, p.inv, log)
	if err != nil {
		t.Fatal(err)
	}
	p.inv.Register("hook", a.Engine.RunTask)
	p.srv = httptest.NewServer(a.API.Handler())
	t.Cleanup(func() {
		p.srv.Close()
		p.inv.Close()
		a.Close()
	})
	return p
}

// settle waits until every operation started so far has finished.
func (p *pouch) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.inv.Wait(ctx); err != nil {
		t.Fatalf("operations did not settle: %v", err)
	}
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
	return p.do(t, c.token, method, "/v1/"+c.projectID+"/"+path, body)
}

// do sends a request with X-Auth-Token tok (none if empty). Every response
// must be application/json and, when not empty, a JSON object.
func (p *pouch) do(t *testing.T, tok, method, path string, body any) *response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	r := &response{what: method + " " + path, code: resp.StatusCode}
	if r.raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("%s: read body: %v", r.what, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", r.what, ct)
	}
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			t.Fatalf("%s: %d body is not a JSON object: %v: %s", r.what, r.code, err, r.raw)
		}
	}
	return r
}

// response is one API answer.
type response struct {
	what string // "METHOD path", for messages
	code int
	raw  []byte
	body map[string]any
}

func (r *response) ok(t *testing.T) *response {
	t.Helper()
	return r.status(t, http.StatusOK)
}

func (r *response) status(t *testing.T, code int) *response {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d: %s", r.what, r.code, code, r.raw)
	}
	return r
}

var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 500: "computeFault",
	503: "serviceUnavailable",
}

// fault checks that r is Karbor's fault {"<name>": {"code": code,
// "message": "..."}} whose message contains every string of want.
func (r *response) fault(t *testing.T, code int, want ...string) {
	t.Helper()
	r.status(t, code)
	f, ok := r.body[faultNames[code]].(map[string]any)
	msg, _ := f["message"].(string)
	if !ok || len(r.body) != 1 || f["code"] != float64(code) || msg == "" {
		t.Fatalf("%s: body %s, want a single %q fault with code %d and a message", r.what, r.raw, faultNames[code], code)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: fault message %q does not contain %q", r.what, msg, w)
		}
	}
}

// str is the string at path (object keys) in the body.
func (r *response) str(t *testing.T, path ...any) string {
	t.Helper()
	s := field(r.body, path...)
	if s == "" {
		t.Fatalf("%s: no string at %v in %s", r.what, path, r.raw)
	}
	return s
}

// ids are the "id" fields of the list under key, sorted.
func (r *response) ids(t *testing.T, key string) []string {
	t.Helper()
	l, ok := r.body[key].([]any)
	if !ok {
		t.Fatalf("%s: no list %q in %s", r.what, key, r.raw)
	}
	var out []string
	for i := range l {
		out = append(out, field(l, i, "id"))
	}
	slices.Sort(out)
	return out
}

// plan creates a plan of the noop provider as c and returns its id.
func (p *pouch) plan(t *testing.T, c *caller, name string) string {
	t.Helper()
	return p.as(t, c, "POST", "plans", obj{"plan": obj{"name": name, "provider_id": noopProvider, "parameters": obj{},
		"resources": []obj{{"id": "00000000-0000-4000-8000-000000000001", "type": "OS::Nova::Server", "name": "vm1"}}}}).
		ok(t).str(t, "plan", "id")
}

// waitStatus polls GET path as c until the object under key has status
// want (30 s at most).
func (p *pouch) waitStatus(t *testing.T, c *caller, path, key, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := p.as(t, c, "GET", path, nil).ok(t).str(t, key, "status")
		if st == want {
			return
		}
		if time.Now().After(deadline) || st == "error" || st == "fail" {
			t.Fatalf("GET %s: status %s, want %s", path, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
