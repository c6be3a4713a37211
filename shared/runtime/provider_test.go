package runtime_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openfaas/faas-provider/types"

	"github.com/pouchdp/pouch/shared/runtime"
)

// seen is what the echo function received.
type seen struct {
	Method, Path, RawPath, RawQuery, RequestURI, Body, Header string
}

// echo answers with a JSON description of the request it got.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Echo", "yes")
	w.WriteHeader(http.StatusTeapot)
	_ = json.NewEncoder(w).Encode(seen{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery,
		RequestURI: r.RequestURI, Body: string(body), Header: r.Header.Get("X-Test"),
	})
})

func testFunctions() []runtime.Function {
	return []runtime.Function{
		{
			Name:        "tick",
			Handler:     echo,
			Annotations: map[string]string{"topic": "cron-function", "schedule": "* * * * *"},
			Labels:      map[string]string{"pouch.kind": "tick"},
			EnvProcess:  "pouch tick",
		},
		{Name: "api", Handler: echo, Labels: map[string]string{"pouch.kind": "api"}},
		{Name: "hook.v1", Handler: echo},
	}
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(runtime.New(testFunctions(), nil).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, body := do(t, http.MethodGet, url, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

func TestListFunctions(t *testing.T) {
	srv := newServer(t)
	for _, query := range []string{"", "?namespace=openfaas-fn"} {
		t.Run("query="+query, func(t *testing.T) {
			var list []types.FunctionStatus
			getJSON(t, srv.URL+"/system/functions"+query, &list)
			var names []string
			for _, f := range list {
				names = append(names, f.Name)
				if f.Image != "pouch-local" || f.Namespace != "openfaas-fn" || f.Replicas != 1 || f.AvailableReplicas != 1 {
					t.Errorf("%s: image %q namespace %q replicas %d/%d", f.Name, f.Image, f.Namespace, f.AvailableReplicas, f.Replicas)
				}
			}
			if want := []string{"api", "hook.v1", "tick"}; !slices.Equal(names, want) {
				t.Fatalf("names = %v, want %v", names, want)
			}
			tick := list[2]
			if tick.Annotations == nil || (*tick.Annotations)["topic"] != "cron-function" || (*tick.Annotations)["schedule"] != "* * * * *" {
				t.Errorf("tick annotations = %v", tick.Annotations)
			}
			if tick.Labels == nil || (*tick.Labels)["pouch.kind"] != "tick" {
				t.Errorf("tick labels = %v", tick.Labels)
			}
			if tick.EnvProcess != "pouch tick" {
				t.Errorf("tick envProcess = %q", tick.EnvProcess)
			}
			if list[1].Annotations != nil {
				t.Errorf("hook.v1 has annotations %v, want none", *list[1].Annotations)
			}
		})
	}
	t.Run("other namespace", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, srv.URL+"/system/functions?namespace=kube-system", nil, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d %s, want 400", resp.StatusCode, body)
		}
	})
}

// The list is a copy: mutating the caller's maps after New changes nothing.
func TestNewCopiesMaps(t *testing.T) {
	fns := testFunctions()
	srv := httptest.NewServer(runtime.New(fns, nil).Handler())
	defer srv.Close()
	fns[0].Annotations["schedule"] = "changed"
	var st types.FunctionStatus
	getJSON(t, srv.URL+"/system/function/tick", &st)
	if got := (*st.Annotations)["schedule"]; got != "* * * * *" {
		t.Errorf("schedule = %q after the caller's map changed", got)
	}
}

func TestFunctionStatus(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path     string
		wantCode int
		wantName string
	}{
		{path: "/system/function/tick", wantCode: 200, wantName: "tick"},
		{path: "/system/function/tick.openfaas-fn", wantCode: 200, wantName: "tick"},
		{path: "/system/function/hook.v1", wantCode: 200, wantName: "hook.v1"},
		{path: "/system/function/tick?namespace=openfaas-fn", wantCode: 200, wantName: "tick"},
		{path: "/system/function/tick?namespace=other", wantCode: 400},
		{path: "/system/function/nope", wantCode: 404},
		{path: "/system/function/tick.other-ns", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, srv.URL+tt.path, nil, nil)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.wantCode)
			}
			if tt.wantCode != 200 {
				return
			}
			var st types.FunctionStatus
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatal(err)
			}
			if st.Name != tt.wantName {
				t.Errorf("name = %q, want %q", st.Name, tt.wantName)
			}
		})
	}
}

func TestNamespacesInfoHealth(t *testing.T) {
	srv := newServer(t)
	var ns []string
	getJSON(t, srv.URL+"/system/namespaces", &ns)
	if !slices.Equal(ns, []string{"openfaas-fn"}) {
		t.Errorf("namespaces = %v", ns)
	}

	var info types.ProviderInfo
	getJSON(t, srv.URL+"/system/info", &info)
	if info.Name != "pouch" || info.Orchestration != "pouch-local" || info.Version == nil || info.Version.Release == "" {
		t.Errorf("info = %+v (version %+v)", info, info.Version)
	}

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp, _ := do(t, method, srv.URL+"/healthz", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /healthz = %d", method, resp.StatusCode)
		}
	}
	resp, _ := do(t, http.MethodPost, srv.URL+"/healthz", nil, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}

func TestProxy(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, method, path, body string
		want                     seen
	}{
		{name: "bare name", method: "POST", path: "/function/api", body: "payload",
			want: seen{Method: "POST", Path: "/", RequestURI: "/", Body: "payload", Header: "h1"}},
		{name: "trailing slash", method: "GET", path: "/function/api/",
			want: seen{Method: "GET", Path: "/", RequestURI: "/", Header: "h1"}},
		{name: "sub path and query", method: "PUT", path: "/function/api/v1/plans/42?verbose=1&x=a%20b", body: `{"a":1}`,
			want: seen{Method: "PUT", Path: "/v1/plans/42", RawQuery: "verbose=1&x=a%20b", RequestURI: "/v1/plans/42?verbose=1&x=a%20b", Body: `{"a":1}`, Header: "h1"}},
		{name: "namespace suffix", method: "DELETE", path: "/function/api.openfaas-fn/v1/plans/42",
			want: seen{Method: "DELETE", Path: "/v1/plans/42", RequestURI: "/v1/plans/42", Header: "h1"}},
		{name: "namespace suffix bare", method: "POST", path: "/function/tick.openfaas-fn",
			want: seen{Method: "POST", Path: "/", RequestURI: "/", Header: "h1"}},
		{name: "dotted name", method: "PATCH", path: "/function/hook.v1/run",
			want: seen{Method: "PATCH", Path: "/run", RequestURI: "/run", Header: "h1"}},
		{name: "escaped slash kept escaped", method: "GET", path: "/function/api/objects/a%2Fb",
			want: seen{Method: "GET", Path: "/objects/a/b", RawPath: "/objects/a%2Fb", RequestURI: "/objects/a%2Fb", Header: "h1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, strings.NewReader(tt.body), map[string]string{"X-Test": "h1"})
			if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Echo") != "yes" {
				t.Fatalf("status %d, X-Echo %q: the function's response was not passed through (%s)",
					resp.StatusCode, resp.Header.Get("X-Echo"), body)
			}
			var got seen
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("function saw %+v\nwant          %+v", got, tt.want)
			}
		})
	}
}

func TestProxyUnknownFunction(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/function/nope", "/function/nope/", "/function/nope/x", "/function/api.other-ns/x", "/function/"} {
		t.Run(path, func(t *testing.T) {
			resp, body := do(t, http.MethodPost, srv.URL+path, nil, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d (%s), want 404", resp.StatusCode, body)
			}
		})
	}
}

func TestInvocationCount(t *testing.T) {
	srv := newServer(t)
	count := func(name string) float64 {
		var st types.FunctionStatus
		getJSON(t, srv.URL+"/system/function/"+name, &st)
		return st.InvocationCount
	}
	var wg sync.WaitGroup
	for i := range 20 {
		path := []string{"/function/api", "/function/api/x", "/function/api.openfaas-fn/"}[i%3]
		wg.Go(func() {
			resp, err := http.Post(srv.URL+path, "text/plain", nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	do(t, http.MethodPost, srv.URL+"/function/nope", nil, nil) // unknown: not counted anywhere
	if got := count("api"); got != 20 {
		t.Errorf("api invocationCount = %v, want 20", got)
	}
	if got := count("tick"); got != 0 {
		t.Errorf("tick invocationCount = %v, want 0", got)
	}
	var list []types.FunctionStatus
	getJSON(t, srv.URL+"/system/functions", &list)
	if list[0].Name != "api" || list[0].InvocationCount != 20 {
		t.Errorf("list shows %s with %v invocations, want api with 20", list[0].Name, list[0].InvocationCount)
	}
}

// TestCronConnectorContract plays the openfaas/cron-connector's part: list
// namespaces, list functions per namespace, keep the cron-function ones and
// POST an empty body to /function/NAME.NAMESPACE with its headers.
func TestCronConnectorContract(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	tick := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, fmt.Sprintf("%s %s %s/%s", r.Method, r.URL.Path, r.Header.Get("X-Connector"), r.Header.Get("X-Topic")))
	})
	p := runtime.New([]runtime.Function{
		{Name: "tick", Handler: tick, Annotations: map[string]string{"topic": "cron-function", "schedule": "*/5 * * * *"}},
		{Name: "api", Handler: tick},
	}, nil)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	var namespaces []string
	getJSON(t, srv.URL+"/system/namespaces", &namespaces)
	for _, ns := range namespaces {
		var list []types.FunctionStatus
		getJSON(t, srv.URL+"/system/functions?namespace="+ns, &list)
		for _, f := range list {
			if f.Annotations == nil || (*f.Annotations)["topic"] != "cron-function" || (*f.Annotations)["schedule"] == "" {
				continue
			}
			resp, body := do(t, http.MethodPost, srv.URL+"/function/"+f.Name+"."+ns, nil,
				map[string]string{"X-Connector": "cron-connector", "X-Topic": "cron-function"})
			if resp.StatusCode != http.StatusOK {
				t.Errorf("invoke %s: %d %s", f.Name, resp.StatusCode, body)
			}
		}
	}
	if want := []string{"POST / cron-connector/cron-function"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}

func TestNewPanics(t *testing.T) {
	tests := []struct {
		name string
		fns  []runtime.Function
	}{
		{name: "empty name", fns: []runtime.Function{{Name: "", Handler: echo}}},
		{name: "slash in name", fns: []runtime.Function{{Name: "a/b", Handler: echo}}},
		{name: "namespace suffix", fns: []runtime.Function{{Name: "a.openfaas-fn", Handler: echo}}},
		{name: "nil handler", fns: []runtime.Function{{Name: "a"}}},
		{name: "duplicate", fns: []runtime.Function{{Name: "a", Handler: echo}, {Name: "a", Handler: echo}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			runtime.New(tt.fns, nil)
		})
	}
}
