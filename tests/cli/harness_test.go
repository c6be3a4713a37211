package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"
	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/redistest"
)

// The shipped providers (spec §6.2 and plugins/localdir).
const (
	dirProvider  = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	dirType      = "Pouch::Local::Directory"
	unknownID    = "0b5c3b52-6d9e-4a4c-9b1e-6f0e1d2c3b4a"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pouchtest.Cleanup()
	os.Exit(code)
}

// requireClients fails (never skips) when the Karbor clients are missing.
func requireClients(t *testing.T) {
	t.Helper()
	for _, c := range []string{"karbor", "openstack"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not found: run tests/setup.sh (python3-karborclient, python3-openstackclient)", c)
		}
	}
}

// exchange is one HTTP request and its answer, as the proxy saw them.
type exchange struct {
	Method, URL, ReqBody string
	Status               int
	RespBody             string
}

func (e exchange) String() string {
	s := fmt.Sprintf("> %s %s", e.Method, e.URL)
	if e.ReqBody != "" {
		s += "\n> " + e.ReqBody
	}
	s += fmt.Sprintf("\n< %d %s", e.Status, clip(e.RespBody, 2000))
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// server is one "pouch serve" behind a recording proxy the clients talk to.
type server struct {
	url    string // the proxy: what the clients use
	direct string
	logs   *logtest.Buffer
	mu     sync.Mutex
	wires  map[string][]exchange // by the user part of the token
}

// recorder is the proxy's transport: it keeps every exchange under the user
// of its X-Auth-Token ("<user>:<project>"); each command runs as its own user.
type recorder struct{ s *server }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	e := exchange{Method: req.Method, URL: req.URL.RequestURI(), ReqBody: string(reqBody)}
	if err != nil {
		e.RespBody = "transport error: " + err.Error()
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		e.Status, e.RespBody = resp.StatusCode, string(body)
	}
	user, _, _ := strings.Cut(req.Header.Get("X-Auth-Token"), ":")
	r.s.mu.Lock()
	r.s.wires[user] = append(r.s.wires[user], e)
	r.s.mu.Unlock()
	return resp, err
}

func (s *server) wire(user string) []exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]exchange(nil), s.wires[user]...)
}

// start runs "pouch serve" the way "make run" does, on a free 127.0.0.1 port,
// with a private redis-server and data directory, allowing the local-directory
// provider to work under roots; it waits until the server answers.
func start(t *testing.T, roots string) *server {
	t.Helper()
	requireClients(t)
	redisAddr := redistest.Addr(t)
	p := pouchtest.Start(t, []string{"-data-dir", t.TempDir(), "-redis", redisAddr}, "POUCH_ALLOWED_ROOTS="+roots)
	direct := p.URL
	s := &server{direct: direct, logs: p.Logs, wires: map[string][]exchange{}}
	t.Cleanup(func() { p.Stop(t) })
	target, _ := url.Parse(direct)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = recorder{s}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)
	s.url = ps.URL
	return s
}

// variant is one of the two clients.
type variant string

const (
	legacy variant = "karbor"
	osc    variant = "openstack"
)

var variants = []variant{legacy, osc}

// client runs the CLIs as a user of project.
type client struct {
	s         *server
	project   string // in the URL
	tokenProj string // in the token (normally project)
	lastMu    sync.Mutex
	last      map[*testing.T][]*out
}

// commandSeq numbers commands; command n runs as user "clin", which is how
// the proxy tells their requests apart.
var commandSeq atomic.Int64

func newClient(s *server, project string) *client {
	return &client{s: s, project: project, tokenProj: project, last: map[*testing.T][]*out{}}
}

// withToken is c with a token for another project (the URL stays).
func (c *client) withToken(project string) *client {
	return &client{s: c.s, project: c.project, tokenProj: project, last: map[*testing.T][]*out{}}
}

// out is what one command did.
type out struct {
	v              variant
	cmd            string
	stdout, stderr string
	code           int
	wire           []exchange
}

func (o *out) wireString() string {
	if len(o.wire) == 0 {
		return "  (no HTTP request reached the server)"
	}
	var b strings.Builder
	for _, e := range o.wire {
		b.WriteString(indent(e.String()) + "\n")
	}
	return b.String()
}

func (o *out) describe() string {
	return fmt.Sprintf("$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s--- wire\n%s", o.cmd, o.code,
		o.stdout, clip(o.stderr, 4000), o.wireString())
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$;&|<>*?(){}[]#") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// cliEnv is the environment without OS_* and KARBOR_* variables, so only the
// command line configures the clients.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OS_") || strings.HasPrefix(kv, "KARBOR_") || strings.HasPrefix(kv, "ALL_TENANTS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// exec runs one command of variant v (args after "karbor <globals>" or after
// "openstack <globals> data protection") and returns what it did.
func (c *client) exec(t *testing.T, v variant, args ...string) *out {
	t.Helper()
	user := fmt.Sprintf("cli%d", commandSeq.Add(1))
	token := user + ":" + c.tokenProj
	endpoint := c.s.url + "/v1/" + c.project
	var argv []string
	switch v {
	case legacy:
		argv = append([]string{"karbor", "--os-auth-token", token, "--os-no-client-auth", "--karbor-url", endpoint}, args...)
	case osc:
		argv = append([]string{"openstack", "--os-auth-type", "admin_token", "--os-endpoint", endpoint,
			"--os-token", token, "data", "protection"}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	o := &out{v: v, cmd: shellQuote(argv)}
	t.Log("$ " + o.cmd)
	err := cmd.Run()
	o.stdout, o.stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		o.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v", o.cmd, err)
	}
	o.wire = c.s.wire(user)
	c.remember(t, o)
	return o
}

// remember keeps the last commands of t and, if t fails, prints their wire.
func (c *client) remember(t *testing.T, o *out) {
	c.lastMu.Lock()
	defer c.lastMu.Unlock()
	if _, ok := c.last[t]; !ok {
		t.Cleanup(func() {
			c.lastMu.Lock()
			outs := c.last[t]
			delete(c.last, t)
			c.lastMu.Unlock()
			if !t.Failed() {
				return
			}
			if len(outs) > 2 {
				outs = outs[len(outs)-2:]
			}
			for _, o := range outs {
				t.Logf("wire of the last commands:\n$ %s\n%s", o.cmd, o.wireString())
			}
		})
	}
	c.last[t] = append(c.last[t], o)
}

// must runs a command that has to succeed.
func (c *client) must(t *testing.T, v variant, args ...string) *out {
	t.Helper()
	o := c.exec(t, v, args...)
	if o.code != 0 {
		t.Fatalf("command failed:\n%s", o.describe())
	}
	return o
}

// mustFail runs a command that has to fail and print want (stdout or stderr).
func (c *client) mustFail(t *testing.T, v variant, want string, args ...string) *out {
	t.Helper()
	o := c.exec(t, v, args...)
	if o.code == 0 {
		t.Fatalf("command succeeded, want a failure with %q:\n%s", want, o.describe())
	}
	if !strings.Contains(o.stdout+o.stderr, want) {
		t.Fatalf("command failed without %q:\n%s", want, o.describe())
	}
	return o
}

// karbor and openstack are must for one variant. For openstack, show and list
// commands need "-f json" in args.
func (c *client) karbor(t *testing.T, args ...string) *out {
	t.Helper()
	return c.must(t, legacy, args...)
}

func (c *client) openstack(t *testing.T, args ...string) *out {
	t.Helper()
	return c.must(t, osc, args...)
}

// row is one record of a client's output: a list row (keys are the column
// headers) or a show (keys are the property names). Keys are normalised
// (lower case, no spaces or underscores) so both clients' outputs compare;
// values are strings, "" for None/null/"-", "true"/"false" for booleans, JSON
// text for OSC values that are not strings.
type row map[string]string

func normKey(k string) string {
	return strings.NewReplacer(" ", "", "_", "").Replace(strings.ToLower(k))
}

func (r row) get(k string) string { return r[normKey(k)] }

// has reports whether the output had the column or property k.
func (r row) has(k string) bool { _, ok := r[normKey(k)]; return ok }

// jsonOf decodes the JSON text of field k into v.
func (r row) jsonOf(t *testing.T, k string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.get(k)), v); err != nil {
		t.Fatalf("field %s is not JSON (%v): %q", k, err, r.get(k))
	}
}

func legacyValue(s string, inList bool) string {
	switch {
	case s == "None":
		return ""
	case s == "-" && inList:
		return ""
	case s == "True":
		return "true"
	case s == "False":
		return "false"
	}
	return s
}

func jsonValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// rows parses the output of a list command.
func (o *out) rows(t *testing.T) []row {
	t.Helper()
	var rs []row
	switch o.v {
	case legacy:
		header, cells, err := parseTable(o.stdout)
		if err != nil {
			t.Fatalf("%v:\n%s", err, o.describe())
		}
		for _, c := range cells {
			r := row{}
			for i, h := range header {
				r[normKey(h)] = legacyValue(c[i], true)
			}
			rs = append(rs, r)
		}
	case osc:
		var items []map[string]any
		if err := json.Unmarshal([]byte(o.stdout), &items); err != nil {
			t.Fatalf("not a JSON list (%v):\n%s", err, o.describe())
		}
		for _, it := range items {
			r := row{}
			for k, v := range it {
				r[normKey(k)] = jsonValue(v)
			}
			rs = append(rs, r)
		}
	}
	return rs
}

// record parses the output of a show (or create, update) command.
func (o *out) record(t *testing.T) row {
	t.Helper()
	r := row{}
	switch o.v {
	case legacy:
		header, cells, err := parseTable(o.stdout)
		if err != nil {
			t.Fatalf("%v:\n%s", err, o.describe())
		}
		if len(header) != 2 || header[0] != "Property" {
			t.Fatalf("not a Property/Value table:\n%s", o.describe())
		}
		for _, c := range cells {
			r[normKey(c[0])] = legacyValue(c[1], false)
		}
	case osc:
		var m map[string]any
		if err := json.Unmarshal([]byte(o.stdout), &m); err != nil {
			t.Fatalf("not a JSON object (%v):\n%s", err, o.describe())
		}
		for k, v := range m {
			r[normKey(k)] = jsonValue(v)
		}
	}
	return r
}

// parseTable reads the first prettytable of s: the header and the rows, a
// row's continuation lines (first cell empty) joined with newlines.
func parseTable(s string) ([]string, [][]string, error) {
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "+-") {
		i++
	}
	if i+2 >= len(lines) {
		return nil, nil, fmt.Errorf("no table in the output")
	}
	border := []rune(strings.TrimRight(lines[i], " "))
	var cols []int
	for j, r := range border {
		if r == '+' {
			cols = append(cols, j)
		}
	}
	split := func(line string) []string {
		rs := []rune(line)
		cells := make([]string, len(cols)-1)
		for k := 0; k+1 < len(cols); k++ {
			a, b := cols[k]+1, cols[k+1]
			if a > len(rs) {
				a = len(rs)
			}
			if b > len(rs) {
				b = len(rs)
			}
			cell := strings.TrimRight(string(rs[a:b]), " ")
			cells[k] = strings.TrimPrefix(cell, " ")
		}
		return cells
	}
	header := split(lines[i+1])
	var rows [][]string
	for _, line := range lines[i+3:] {
		if strings.HasPrefix(line, "+-") || !strings.HasPrefix(line, "|") {
			break
		}
		cells := split(line)
		if cells[0] == "" && len(rows) > 0 {
			prev := rows[len(rows)-1]
			for k, c := range cells {
				if c != "" {
					if prev[k] != "" {
						prev[k] += "\n"
					}
					prev[k] += c
				}
			}
			continue
		}
		rows = append(rows, cells)
	}
	return header, rows, nil
}

// readCase is one read command, run with both clients.
type readCase struct {
	name   string
	legacy []string // after "karbor <globals>"
	osc    []string // after "openstack <globals> data protection"; "-f json" is added; nil: no OSC equivalent
	list   bool
	check  func(t *testing.T, v variant, rs []row) // a show gives one row
}

// reads runs every case with both clients, in parallel, and checks the
// parsed output.
func (c *client) reads(t *testing.T, group string, cases []readCase) {
	t.Helper()
	t.Run("reads-"+group, func(t *testing.T) {
		for _, rc := range cases {
			for _, v := range variants {
				args := rc.legacy
				if v == osc {
					if rc.osc == nil {
						continue
					}
					args = append(append([]string(nil), rc.osc...), "-f", "json")
				}
				t.Run(rc.name+"/"+string(v), func(t *testing.T) {
					t.Parallel()
					o := c.must(t, v, args...)
					if rc.list {
						rc.check(t, v, o.rows(t))
					} else {
						rc.check(t, v, []row{o.record(t)})
					}
				})
			}
		}
	})
}

// run is must with "-f json" added for OSC (for show, list, create, update).
func (c *client) run(t *testing.T, v variant, legacyArgs, oscArgs []string) *out {
	t.Helper()
	if v == legacy {
		return c.must(t, v, legacyArgs...)
	}
	return c.must(t, v, append(append([]string(nil), oscArgs...), "-f", "json")...)
}

// ids is the "id" column of rows.
func ids(rs []row) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.get("id"))
	}
	return out
}

// find is the row whose column k is v, or nil.
func find(rs []row, k, v string) row {
	for _, r := range rs {
		if r.get(k) == v {
			return r
		}
	}
	return nil
}

// poll calls get until done says so; it fails after timeout.
func poll(t *testing.T, what string, timeout time.Duration, get func() string, done func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := get()
		if done(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %q after %s", what, s, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func today() string { return time.Now().UTC().Format("2006-01-02") }

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// mkTree writes files (relative path → content) under dir.
func mkTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// realDir is dir with its symlinks resolved (the plugin names directories by
// their real path below the resolved allowed roots).
func realDir(t *testing.T, dir string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
