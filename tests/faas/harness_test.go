package faas

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/openfaas/go-sdk/stack"

	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/redistest"
)

// Provider ids of the shipped providers.
const (
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	dirProvider  = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
)

// repo is the repository's root, from this package's directory.
const repo = "../.."

// loadStack parses the repository's stack.yml as faas-cli does, and the
// template.yml of its language.
func loadStack(t *testing.T) (*stack.Services, *stack.LanguageTemplate) {
	t.Helper()
	svc, err := stack.ParseYAMLFile(filepath.Join(repo, "stack.yml"), "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if names := slices.Sorted(maps.Keys(svc.Functions)); !slices.Equal(names, []string{"api", "hook", "tick"}) {
		t.Fatalf("stack.yml has functions %v, want api, hook and tick", names)
	}
	lang := svc.Functions["api"].Language
	for name, fn := range svc.Functions {
		fn.Name = name // the map's key, as faas-cli sets it
		svc.Functions[name] = fn
		if fn.Language != lang {
			t.Fatalf("function %s has lang %q, %s has %q", name, fn.Language, "api", lang)
		}
	}
	tmpl, err := stack.ParseYAMLForLanguageTemplate(filepath.Join(repo, "template", lang, "template.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return svc, tmpl
}

// deployment is what faas-cli deploy sends for fn.
func deployment(fn stack.Function, fprocess string) types.FunctionDeployment {
	d := types.FunctionDeployment{
		Service:                fn.Name,
		Image:                  fn.Image,
		Namespace:              fn.Namespace,
		EnvProcess:             fprocess,
		EnvVars:                fn.Environment,
		Secrets:                fn.Secrets,
		Labels:                 fn.Labels,
		Annotations:            fn.Annotations,
		ReadOnlyRootFilesystem: fn.ReadOnlyRootFilesystem,
	}
	if fn.FProcess != "" {
		d.EnvProcess = fn.FProcess
	}
	if fn.Constraints != nil {
		d.Constraints = *fn.Constraints
	}
	if fn.Limits != nil {
		d.Limits = &types.FunctionResources{Memory: fn.Limits.Memory, CPU: fn.Limits.CPU}
	}
	if fn.Requests != nil {
		d.Requests = &types.FunctionResources{Memory: fn.Requests.Memory, CPU: fn.Requests.CPU}
	}
	return d
}

// serve is one running "pouch serve" on a private redis-server, stopped at
// cleanup (its log shown if the test failed).
type serve struct {
	*pouchtest.Server
	t *testing.T
}

func startServe(t *testing.T, args []string, env ...string) *serve {
	t.Helper()
	args = append([]string{"-data-dir", t.TempDir(), "-redis", redistest.Addr(t)}, args...)
	s := &serve{Server: pouchtest.Start(t, args, env...), t: t}
	t.Cleanup(func() {
		if s.Cmd.ProcessState == nil {
			_ = s.Cmd.Process.Kill()
			_ = s.Cmd.Wait()
		}
		if t.Failed() {
			t.Logf("pouch serve log:\n%s", s.Logs.String())
		}
	})
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *serve) stop() {
	s.t.Helper()
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("pouch serve exited with %v", err)
		}
	case <-time.After(45 * time.Second):
		_ = s.Cmd.Process.Kill()
		s.t.Fatal("pouch serve did not stop on SIGTERM")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// call sends a request with an optional JSON body as project's noauth user
// and returns the status and the body.
func call(t *testing.T, method, url, project string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if project != "" {
		req.Header.Set("X-Auth-Token", "faas:"+project)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// must is call that wants 200 and decodes the answer into out.
func must(t *testing.T, method, url, project string, body, out any) {
	t.Helper()
	code, data := call(t, method, url, project, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, code, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, data)
		}
	}
}

// providerIDs lists the provider ids the api at base answers for project.
func providerIDs(t *testing.T, base, project string) []string {
	t.Helper()
	var out struct{ Providers []struct{ ID string } }
	must(t, http.MethodGet, base+"/v1/"+project+"/providers", project, nil, &out)
	var ids []string
	for _, p := range out.Providers {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}

// callbacks is a server that records the X-Callback-Url posts of a queue
// worker: their X-Function-Name and X-Function-Status.
type callbacks struct {
	URL string
	mu  sync.Mutex
	got []http.Header
}

func newCallbacks(t *testing.T) *callbacks {
	t.Helper()
	c := &callbacks{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.got = append(c.got, r.Header.Clone())
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + "/callback"
	return c
}

func (c *callbacks) headers() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// waitFor polls get until done says so, or fails after two minutes.
func waitFor(t *testing.T, what string, get func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		state, done := get()
		if done {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %q after 2 minutes", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeTree writes a few files below dir and returns their total size.
func writeTree(t *testing.T, dir string) int64 {
	t.Helper()
	files := map[string]string{
		"etc/app.conf":  "port = 80\n",
		"data/blob.bin": string(bytes.Repeat([]byte{0, 1, 2, 3, 254, 255}, 50000)),
		"empty":         "",
	}
	var total int64
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		total += int64(len(content))
	}
	return total
}
