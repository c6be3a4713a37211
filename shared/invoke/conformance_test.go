package invoke_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/invoke/invoketest"
	"github.com/pouchdp/pouch/shared/runtime"
	"github.com/pouchdp/pouch/tests/logtest"
)

func TestLocalConformance(t *testing.T) {
	invoketest.Run(t, func(t *testing.T, sink func(context.Context, []byte) error) invoketest.Harness {
		l := invoke.NewLocal(8, nil)
		t.Cleanup(l.Close)
		l.Register("sink", sink)
		return invoketest.Harness{Invoker: l, Function: "sink", Unknown: "nope", Wait: l.Wait}
	})
}

// sinkFunction is a function of the runtime that hands its body to sink:
// 200, or 500 with the sink's error.
func sinkFunction(sink func(context.Context, []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := sink(r.Context(), body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// gateway is the real local runtime on 127.0.0.1:0 with one function,
// "sink", stopped at cleanup.
func gateway(t *testing.T, sink func(context.Context, []byte) error, wrap func(http.Handler) http.Handler) (*runtime.Provider, *httptest.Server) {
	t.Helper()
	log, logs := logtest.New()
	p := runtime.New([]runtime.Function{{Name: "sink", Handler: sinkFunction(sink)}}, log, runtime.QueueWorkers(8))
	t.Cleanup(p.Close)
	var h http.Handler = p.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime log:\n%s", logs.String())
		}
	})
	return p, srv
}

func newOpenFaaS(t *testing.T, cfg invoke.OpenFaaSConfig) *invoke.OpenFaaS {
	t.Helper()
	if cfg.RetryBase == 0 {
		cfg.RetryBase, cfg.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	}
	o, err := invoke.NewOpenFaaS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

// callbacks records what the runtime's queue worker POSTs to X-Callback-Url.
type callbacks struct {
	mu   sync.Mutex
	got  []http.Header
	srv  *httptest.Server
	sent map[string]bool // X-Call-Id of every 202 the invoker got
}

func newCallbacks(t *testing.T) *callbacks {
	c := &callbacks{sent: map[string]bool{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.got = append(c.got, r.Header.Clone())
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// RoundTrip notes the X-Call-Id of every accepted call.
func (c *callbacks) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusAccepted {
		c.mu.Lock()
		c.sent[resp.Header.Get(runtime.HeaderCallID)] = true
		c.mu.Unlock()
	}
	return resp, err
}

// check expects one callback per accepted call, with its X-Call-Id, the
// function's name and status and a duration.
func (c *callbacks) check(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, h := range c.got {
		id := h.Get(runtime.HeaderCallID)
		if !c.sent[id] || seen[id] {
			t.Errorf("callback with X-Call-Id %q: not one of the accepted calls, or a second callback", id)
		}
		seen[id] = true
		if h.Get(runtime.HeaderName) != "sink" {
			t.Errorf("callback %s: X-Function-Name %q", id, h.Get(runtime.HeaderName))
		}
		if s := h.Get(runtime.HeaderStatus); s != "200" && s != "500" {
			t.Errorf("callback %s: X-Function-Status %q", id, s)
		}
		if d, err := strconv.ParseFloat(h.Get(runtime.HeaderDuration), 64); err != nil || d < 0 {
			t.Errorf("callback %s: X-Duration-Seconds %q", id, h.Get(runtime.HeaderDuration))
		}
	}
	if len(seen) != len(c.sent) {
		t.Errorf("%d callbacks for %d accepted calls", len(seen), len(c.sent))
	}
}

// TestOpenFaaSConformance runs the OpenFaaS invoker against the real local
// runtime, through its queue (with and without callbacks) and synchronously.
func TestOpenFaaSConformance(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		callback bool
	}{
		{name: "async", mode: invoke.ModeAsync},
		{name: "async with callback", mode: invoke.ModeAsync, callback: true},
		{name: "sync", mode: invoke.ModeSync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invoketest.Run(t, func(t *testing.T, sink func(context.Context, []byte) error) invoketest.Harness {
				var cb *callbacks
				if tt.callback {
					cb = newCallbacks(t)
				}
				p, srv := gateway(t, sink, nil)
				cfg := invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: tt.mode}
				if cb != nil {
					cfg.CallbackURL = cb.srv.URL + "/done"
					cfg.Client = &http.Client{Transport: cb}
				}
				o := newOpenFaaS(t, cfg)
				h := invoketest.Harness{Invoker: o, Function: "sink", Unknown: "nope", Wait: p.Wait}
				if tt.mode == invoke.ModeSync {
					h.Unknown, h.Wait = "", o.Wait // the call is made after Invoke returns
				}
				if cb != nil {
					t.Cleanup(func() { // after the suite released the sink
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						defer cancel()
						if err := p.Wait(ctx); err != nil {
							t.Fatal(err)
						}
						cb.check(t)
					})
				}
				return h
			})
		})
	}
}
