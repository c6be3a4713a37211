package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/redistest"
)

const (
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	dirProvider  = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
	dirType      = "Pouch::Local::Directory"
	serverType   = "OS::Nova::Server"

	// token is the default caller: noauth's "user:project"; the caller is
	// an admin, as every noauth caller.
	token   = "alice:demo"
	project = "demo"
)

// obj is a JSON object in request bodies.
type obj = map[string]any

// env is Pouch assembled as the local runtime does it, on a private
// redis-server, served by httptest. root is the Local Directory Provider's
// only allowed root.
type env struct {
	app     *app.App
	dataDir string // the banks live below it
	srv     *httptest.Server
	inv     *invoke.Local
	root    string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	addr := redistest.Addr(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	provDir := filepath.Join(dir, "providers.d")
	if err := os.Mkdir(root, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.WriteDefaults(provDir); err != nil {
		t.Fatal(err)
	}
	logTo := io.Discard
	if os.Getenv("POUCH_TEST_LOG") != "" {
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inv := invoke.NewLocal(8, log)
	a, err := app.New(context.Background(), app.Config{
		RedisAddr: addr, ProvidersDir: provDir,
		Env:    app.EnvWith(map[string]string{"POUCH_DATA_DIR": filepath.Join(dir, "data"), "POUCH_ALLOWED_ROOTS": root}),
		Engine: engine.Config{RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond},
	}, inv, log)
	if err != nil {
		t.Fatal(err)
	}
	inv.Register("hook", a.Engine.RunTask)
	e := &env{app: a, dataDir: filepath.Join(dir, "data"), srv: httptest.NewServer(a.API.Handler()), inv: inv, root: root}
	t.Cleanup(func() {
		e.srv.Close()
		inv.Close()
		a.Close()
	})
	return e
}

// settle waits until no task is queued or running: every operation started
// so far has finished, including the bookkeeping after its status changed.
func (e *env) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.inv.Wait(ctx); err != nil {
		t.Fatalf("operations did not settle: %v", err)
	}
}

// response is one API answer. body is the decoded JSON object (nil when the
// body is empty).
type response struct {
	what   string // "METHOD path", for messages
	code   int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request as the default token; see doAs.
func (e *env) do(t *testing.T, method, path string, body any) *response {
	t.Helper()
	return e.doAs(t, token, method, path, body)
}

// doAs sends a request with X-Auth-Token tok (none if empty). A path not
// starting with "/" is under /v1/<tok's project>/. body is sent as it is if
// it is a string, else as JSON. Every response must be application/json and,
// when not empty, a JSON object.
func (e *env) doAs(t *testing.T, tok, method, path string, body any) *response {
	t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/v1/" + projectOf(tok) + "/" + path
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json") // python-karborclient sends it on every call
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	r := &response{what: method + " " + path, code: resp.StatusCode, header: resp.Header}
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

func projectOf(tok string) string {
	if _, p, ok := strings.Cut(tok, ":"); ok {
		return p
	}
	if tok == "" {
		return project
	}
	return tok
}

// ok checks that the status is 200 and returns r.
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

// faultNames is spec §1.2's fault name by status.
var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
	409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 501: "notImplemented", 503: "serviceUnavailable",
}

// fault checks that r is Karbor's fault {"<name>": {"code": code, "message":
// "..."}} and that the message contains every string of want. It returns the
// message.
func (r *response) fault(t *testing.T, code int, want ...string) string {
	t.Helper()
	r.status(t, code)
	name := faultNames[code]
	if name == "" {
		name = "computeFault"
	}
	f, ok := r.body[name].(map[string]any)
	if !ok || len(r.body) != 1 {
		t.Fatalf("%s: body %s, want a single %q fault", r.what, r.raw, name)
	}
	msg, _ := f["message"].(string)
	if f["code"] != float64(code) || msg == "" || len(f) != 2 && !(code == 413 && len(f) == 3) {
		t.Fatalf("%s: fault %s, want code %d and a message", r.what, r.raw, code)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: fault message %q does not contain %q", r.what, msg, w)
		}
	}
	return msg
}

// get walks the body along path: object keys (string) and list indices
// (int).
func (r *response) get(t *testing.T, path ...any) any {
	t.Helper()
	var v any = r.body
	for i, p := range path {
		var ok bool
		switch k := p.(type) {
		case string:
			var m map[string]any
			if m, ok = v.(map[string]any); ok {
				v, ok = m[k]
			}
		case int:
			var l []any
			if l, ok = v.([]any); ok && k < len(l) {
				v = l[k]
			} else {
				ok = false
			}
		}
		if !ok {
			t.Fatalf("%s: no %v in %s", r.what, path[:i+1], r.raw)
		}
	}
	return v
}

func (r *response) str(t *testing.T, path ...any) string {
	t.Helper()
	s, ok := r.get(t, path...).(string)
	if !ok {
		t.Fatalf("%s: %v is not a string in %s", r.what, path, r.raw)
	}
	return s
}

func (r *response) list(t *testing.T, path ...any) []any {
	t.Helper()
	l, ok := r.get(t, path...).([]any)
	if !ok {
		t.Fatalf("%s: %v is not a list in %s", r.what, path, r.raw)
	}
	return l
}

// ids are the "id" fields of the list at path.
func (r *response) ids(t *testing.T, path ...any) []string {
	t.Helper()
	var out []string
	for _, it := range r.list(t, path...) {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		out = append(out, id)
	}
	return out
}

// equalJSON reports whether a and b are the same once sent as JSON.
func equalJSON(a, b any) bool {
	norm := func(v any) (out any) {
		data, _ := json.Marshal(v) // test values always marshal
		_ = json.Unmarshal(data, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// finalStatuses end the polling of waitStatus.
var finalStatuses = map[string]bool{
	model.CheckpointAvailable: true, model.CheckpointError: true, model.CheckpointDeleted: true,
	model.CheckpointErrorDeleting: true, model.RestoreSuccess: true, model.RestoreFail: true,
}

// waitStatus polls GET path until the object under key has status want;
// another final status or 30 s fail the test.
func (e *env) waitStatus(t *testing.T, path, key, want string) *response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do(t, "GET", path, nil).ok(t)
		st := r.str(t, key, "status")
		switch {
		case st == want:
			return r
		case finalStatuses[st]:
			t.Fatalf("%s: status %s, want %s: %s", r.what, st, want, r.raw)
		case time.Now().After(deadline):
			t.Fatalf("%s: still %s after 30 s, want %s", r.what, st, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// server is the n-th Nova server, a resource the noop provider protects.
func server(n int) model.Resource {
	return model.Resource{Type: serverType, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Name: fmt.Sprintf("vm%d", n)}
}

// planBody is a plan create body of provider over resources.
func planBody(name, providerID string, resources ...model.Resource) obj {
	return obj{"plan": obj{"name": name, "provider_id": providerID, "parameters": obj{}, "resources": resources}}
}

// plan creates a plan and returns its id.
func (e *env) plan(t *testing.T, name, providerID string, resources ...model.Resource) string {
	t.Helper()
	return e.do(t, "POST", "plans", planBody(name, providerID, resources...)).ok(t).str(t, "plan", "id")
}

// checkpoint protects plan and waits until its checkpoint is available.
func (e *env) checkpoint(t *testing.T, providerID, planID string) string {
	t.Helper()
	path := "providers/" + providerID + "/checkpoints"
	id := e.do(t, "POST", path, obj{"checkpoint": obj{"plan_id": planID}}).ok(t).str(t, "checkpoint", "id")
	e.waitStatus(t, path+"/"+id, "checkpoint", model.CheckpointAvailable)
	return id
}

// memberAuth is noauth without the admin role: the token "user:project" is
// a member of project, so Karbor's admin_or_owner rules confine it to its
// project.
type memberAuth struct{}

func (memberAuth) Authenticate(ctx context.Context, r *http.Request) (*auth.Identity, error) {
	id, err := auth.NoAuth{}.Authenticate(ctx, r)
	if err != nil {
		return nil, err
	}
	id.Roles, id.IsAdmin, id.IsAdminProject = []string{"member"}, false, false
	return id, nil
}

// newMemberEnv is newEnv with callers that are not admins (memberAuth).
func newMemberEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.app.API.Auth = memberAuth{} // before any request: the handler reads it per request
	return e
}
