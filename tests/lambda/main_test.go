package lambda

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/lambdatest"
	"github.com/pouchdp/pouch/tests/redistest"
)

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// bootstrap builds cmd/bootstrap for this machine's architecture once per
// test binary and returns its path.
func bootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pouch-lambda-test")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
		binary = lambdatest.Build(t, dir, runtime.GOARCH)
	})
	if binary == "" {
		t.Fatal("the bootstrap did not build")
	}
	return binary
}

// deployment is Pouch deployed as Lambda functions sharing one redis-server,
// one provider directory and one bank, with the Invoke API fake between
// them.
type deployment struct {
	t         *testing.T
	binary    string
	redis     string
	dir       string // holds providers.d, data (the banks) and root
	root      string // the only directory the Local Directory Provider may touch
	invokeAPI *lambdatest.InvokeAPIFake
}

func deploy(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{t: t, binary: bootstrap(t), redis: redistest.Addr(t), dir: t.TempDir(),
		invokeAPI: lambdatest.NewInvokeAPIFake(t)}
	d.root = filepath.Join(d.dir, "root")
	if err := os.Mkdir(d.root, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.WriteDefaults(filepath.Join(d.dir, "providers.d")); err != nil {
		t.Fatal(err)
	}
	return d
}

// env is the Pouch environment of function: what a deployment sets on each
// Lambda function, then extra.
func (d *deployment) env(function string, extra ...string) []string {
	return append([]string{
		"POUCH_FUNCTION=" + function,
		"POUCH_REDIS=" + d.redis,
		"POUCH_PROVIDERS_DIR=" + filepath.Join(d.dir, "providers.d"),
		"POUCH_DATA_DIR=" + filepath.Join(d.dir, "data"),
		"POUCH_ALLOWED_ROOTS=" + d.root,
		"POUCH_LAMBDA_ENDPOINT=" + d.invokeAPI.URL(),
		"POUCH_LOG_LEVEL=debug",
	}, extra...)
}

// function deploys function as the Lambda function pouch-<function> with
// envs execution environments (bootstrap processes) polling its Runtime
// API fake.
func (d *deployment) function(function string, envs int, extra ...string) *lambdatest.RuntimeAPIFake {
	d.t.Helper()
	rt := lambdatest.NewRuntimeAPIFake(d.t, "pouch-"+function)
	d.invokeAPI.Add(rt)
	for range envs {
		lambdatest.Start(d.t, d.binary, rt, d.env(function, extra...)...)
	}
	return rt
}

// invoke sends event to rt and waits for the runtime's answer.
func invoke(t *testing.T, rt *lambdatest.RuntimeAPIFake, event []byte) lambdatest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := rt.Invoke(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// call sends an HTTP API request to the api function as project's user and
// decodes the JSON answer into out (if not nil); it returns the status.
func call(t *testing.T, api *lambdatest.RuntimeAPIFake, method, path, project string, body, out any) int {
	t.Helper()
	var b string
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = string(data)
	}
	res := invoke(t, api, lambdatest.HTTPAPIEvent(method, path, "lambda:"+project, b))
	if res.Error != nil {
		t.Fatalf("%s %s: Lambda error %+v", method, path, res.Error)
	}
	resp, err := lambdatest.HTTPResponse(res.Response)
	if err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, res.Response)
	}
	if out != nil && resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, resp.Body)
		}
	}
	return resp.StatusCode
}

// must is call that requires 200.
func must(t *testing.T, api *lambdatest.RuntimeAPIFake, method, path, project string, body, out any) {
	t.Helper()
	var raw json.RawMessage
	if code := call(t, api, method, path, project, body, &raw); code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls get until it says done, for up to two minutes.
func waitFor(t *testing.T, what string, get func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, done := get()
		if done {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %s after 2 minutes", what, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
