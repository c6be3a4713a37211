package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/pouchdp/pouch/shared/runtime"
	"github.com/pouchdp/pouch/tests/logtest"
)

// callback is one POST the queue worker made to X-Callback-Url.
type callback struct {
	header http.Header
	body   string
}

// callbackServer records callbacks and hands them out in order.
func callbackServer(t *testing.T) (url string, next func() callback) {
	t.Helper()
	c := make(chan callback, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c <- callback{header: r.Header.Clone(), body: string(body)}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/results", func() callback {
		t.Helper()
		select {
		case cb := <-c:
			return cb
		case <-time.After(30 * time.Second):
			t.Fatal("no callback within 30s")
			return callback{}
		}
	}
}

func newProvider(t *testing.T, fns []runtime.Function, opts ...runtime.Option) (*runtime.Provider, *httptest.Server) {
	t.Helper()
	log, logs := logtest.New()
	p := runtime.New(fns, log, opts...)
	t.Cleanup(p.Close)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("provider log:\n%s", logs.String())
		}
	})
	return p, srv
}

func drain(t *testing.T, p *runtime.Provider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAsyncCallback: 202 with an X-Call-Id at once; later the function runs
// with the queued request and its response goes to the callback URL with
// the headers OpenFaaS's queue worker sets.
func TestAsyncCallback(t *testing.T) {
	_, srv := newProvider(t, testFunctions())
	cbURL, next := callbackServer(t)
	tests := []struct {
		name, path, callID string
		want               seen
	}{
		{name: "sub path and query", path: "/async-function/api/v1/plans?x=a%20b",
			want: seen{Method: "POST", Path: "/v1/plans", RawQuery: "x=a%20b", RequestURI: "/v1/plans?x=a%20b", Body: "task-1", Header: "h1"}},
		{name: "bare name with namespace", path: "/async-function/hook.v1.openfaas-fn",
			want: seen{Method: "POST", Path: "/", RequestURI: "/", Body: "task-1", Header: "h1"}},
		{name: "caller's call id", path: "/async-function/tick/", callID: "call-42",
			want: seen{Method: "POST", Path: "/", RequestURI: "/", Body: "task-1", Header: "h1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"X-Test": "h1", "X-Callback-Url": cbURL}
			if tt.callID != "" {
				h["X-Call-Id"] = tt.callID
			}
			resp, body := do(t, http.MethodPost, srv.URL+tt.path, strings.NewReader("task-1"), h)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d %s, want 202", resp.StatusCode, body)
			}
			id := resp.Header.Get("X-Call-Id")
			if id == "" || (tt.callID != "" && id != tt.callID) {
				t.Fatalf("X-Call-Id %q", id)
			}
			cb := next()
			if got := cb.header.Get("X-Call-Id"); got != id {
				t.Errorf("callback X-Call-Id %q, want %q", got, id)
			}
			if got := cb.header.Get("X-Function-Status"); got != "418" {
				t.Errorf("X-Function-Status %q, want the function's 418", got)
			}
			wantName, _, _ := strings.Cut(strings.TrimPrefix(tt.path, "/async-function/"), "/")
			wantName = strings.TrimSuffix(wantName, ".openfaas-fn")
			if got := cb.header.Get("X-Function-Name"); got != wantName {
				t.Errorf("X-Function-Name %q, want %q", got, wantName)
			}
			if d, err := strconv.ParseFloat(cb.header.Get("X-Duration-Seconds"), 64); err != nil || d < 0 || d > 30 {
				t.Errorf("X-Duration-Seconds %q", cb.header.Get("X-Duration-Seconds"))
			}
			if cb.header.Get("X-Echo") != "yes" {
				t.Errorf("the function's own headers were not passed on: %v", cb.header)
			}
			var got seen
			if err := json.Unmarshal([]byte(cb.body), &got); err != nil {
				t.Fatalf("callback body %q: %v", cb.body, err)
			}
			if got != tt.want {
				t.Errorf("function saw %+v\nwant          %+v", got, tt.want)
			}
		})
	}
}

func TestAsyncRefusals(t *testing.T) {
	p, srv := newProvider(t, testFunctions())
	tests := []struct {
		name, method, path string
		header             map[string]string
		wantCode           int
	}{
		{name: "unknown function", method: "POST", path: "/async-function/nope", wantCode: 404},
		{name: "other namespace", method: "POST", path: "/async-function/api.kube-system", wantCode: 404},
		{name: "relative callback", method: "POST", path: "/async-function/api", header: map[string]string{"X-Callback-Url": "/cb"}, wantCode: 400},
		{name: "callback not http", method: "POST", path: "/async-function/api", header: map[string]string{"X-Callback-Url": "ftp://h/x"}, wantCode: 400},
		{name: "GET", method: "GET", path: "/async-function/api", wantCode: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, strings.NewReader("x"), tt.header)
			if resp.StatusCode != tt.wantCode {
				t.Errorf("%d %s, want %d", resp.StatusCode, body, tt.wantCode)
			}
		})
	}
	p.Close()
	if resp, _ := do(t, http.MethodPost, srv.URL+"/async-function/api", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d, want 503", resp.StatusCode)
	}
}

// A call queued for a function deleted before it runs fails with 404, as it
// would reach OpenFaaS's gateway.
func TestAsyncFunctionDeletedWhileQueued(t *testing.T) {
	gate := make(chan struct{})
	entered := make(chan struct{})
	block := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { close(entered); <-gate })
	p, srv := newProvider(t, []runtime.Function{{Name: "block", Handler: block}, {Name: "api", Handler: echo}}, runtime.QueueWorkers(1))
	cbURL, next := callbackServer(t)
	if resp, _ := do(t, http.MethodPost, srv.URL+"/async-function/block", nil, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	<-entered // the only worker is busy
	if resp, _ := do(t, http.MethodPost, srv.URL+"/async-function/api", nil, map[string]string{"X-Callback-Url": cbURL}); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	if resp, body := send(t, http.MethodDelete, srv.URL+"/system/functions", types.DeleteFunctionRequest{FunctionName: "api"}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	close(gate)
	if got := next().header.Get("X-Function-Status"); got != "404" {
		t.Errorf("X-Function-Status %q, want 404", got)
	}
	drain(t, p)
}

// Functions that queue calls from inside queued calls (a hook dispatching
// its successors) do not deadlock a single worker: the queue is unbounded.
func TestAsyncNestedCalls(t *testing.T) {
	const depth, fanout = 6, 3 // 1+3+9+...+729 = 1093 calls
	var ran atomic.Int64
	var base string
	var mu sync.Mutex
	var failures []string
	node := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		body, _ := io.ReadAll(r.Body)
		level, _ := strconv.Atoi(string(body))
		if level >= depth {
			return
		}
		for range fanout {
			resp, err := http.Post(base+"/async-function/node", "text/plain", strings.NewReader(strconv.Itoa(level+1)))
			if err == nil {
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != http.StatusAccepted {
				mu.Lock()
				failures = append(failures, fmt.Sprint(err, resp))
				mu.Unlock()
			}
		}
	})
	p, srv := newProvider(t, []runtime.Function{{Name: "node", Handler: node}}, runtime.QueueWorkers(1))
	base = srv.URL
	if resp, _ := do(t, http.MethodPost, srv.URL+"/async-function/node", strings.NewReader("0"), nil); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	drain(t, p)
	want := int64(0)
	for l, n := 0, int64(1); l <= depth; l, n = l+1, n*fanout {
		want += n
	}
	if got := ran.Load(); got != want {
		t.Errorf("%d calls ran, want %d", got, want)
	}
	if len(failures) > 0 {
		t.Errorf("%d nested calls were refused: %v", len(failures), failures[0])
	}
	var st types.FunctionStatus
	getJSON(t, srv.URL+"/system/function/node", &st)
	if st.InvocationCount != float64(want) {
		t.Errorf("invocationCount %v, want %d", st.InvocationCount, want)
	}
}

// The synchronous route answers the call's X-Call-Id (the caller's, if it
// gave one) and X-Duration-Seconds, and passes the id to the function.
func TestSyncCallHeaders(t *testing.T) {
	var gotID atomic.Value
	fn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID.Store(r.Header.Get("X-Call-Id"))
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	_, srv := newProvider(t, []runtime.Function{{Name: "f", Handler: fn}})
	for _, callID := range []string{"", "given-7"} {
		h := map[string]string{}
		if callID != "" {
			h["X-Call-Id"] = callID
		}
		resp, body := do(t, http.MethodPost, srv.URL+"/function/f", nil, h)
		if string(body) != "ok" {
			t.Fatalf("body %q", body)
		}
		id := resp.Header.Get("X-Call-Id")
		if id == "" || (callID != "" && id != callID) || gotID.Load() != id {
			t.Errorf("X-Call-Id answered %q, seen by the function %q, given %q", id, gotID.Load(), callID)
		}
		if d, err := strconv.ParseFloat(resp.Header.Get("X-Duration-Seconds"), 64); err != nil || d < 0.02 {
			t.Errorf("X-Duration-Seconds %q, want at least 0.02", resp.Header.Get("X-Duration-Seconds"))
		}
	}
}

// A panicking function answers 500 to the queue worker, which goes on.
func TestAsyncPanic(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	p, srv := newProvider(t, []runtime.Function{{Name: "boom", Handler: boom}, {Name: "api", Handler: echo}}, runtime.QueueWorkers(1))
	cbURL, next := callbackServer(t)
	for _, fn := range []string{"boom", "api"} {
		if resp, _ := do(t, http.MethodPost, srv.URL+"/async-function/"+fn, nil, map[string]string{"X-Callback-Url": cbURL}); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.Status)
		}
	}
	for _, want := range []string{"500", "418"} {
		if got := next().header.Get("X-Function-Status"); got != want {
			t.Errorf("X-Function-Status %q, want %q", got, want)
		}
	}
	drain(t, p)
}
