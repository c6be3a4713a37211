package invoke_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/tests/logtest"
)

// sinkCalls counts what reached the runtime's sink function.
type sinkCalls struct {
	mu   sync.Mutex
	got  []string
	fail bool
}

func (s *sinkCalls) sink(_ context.Context, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, string(p))
	if s.fail {
		return errors.New("sink fails on purpose")
	}
	return nil
}

func (s *sinkCalls) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// faults answers the first n requests itself (a status, or a dropped
// connection for status 0), then passes requests to the runtime; it counts
// every request.
type faults struct {
	n, status int
	requests  atomic.Int64
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(f.requests.Add(1)) > f.n {
			next.ServeHTTP(w, r)
			return
		}
		if f.status != 0 {
			http.Error(w, "injected fault", f.status)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // the client sees the connection drop
		}
	})
}

func drain(t *testing.T, w interface{ Wait(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFaaSRetries(t *testing.T) {
	tests := []struct {
		name         string
		mode         string
		function     string
		faults       *faults
		attempts     int
		wantErr      string // async: Invoke's error; "" for none
		wantRequests int64
		wantCalls    int
	}{
		{name: "two 503 then accepted", mode: invoke.ModeAsync, faults: &faults{n: 2, status: 503},
			wantRequests: 3, wantCalls: 1},
		{name: "two dropped connections then accepted", mode: invoke.ModeAsync, faults: &faults{n: 2},
			wantRequests: 3, wantCalls: 1},
		{name: "429 then accepted", mode: invoke.ModeAsync, faults: &faults{n: 1, status: 429},
			wantRequests: 2, wantCalls: 1},
		{name: "always 502: bounded", mode: invoke.ModeAsync, faults: &faults{n: 100, status: 502}, attempts: 3,
			wantErr: "gave up after 3 attempts", wantRequests: 3},
		{name: "400 is not retried", mode: invoke.ModeAsync, faults: &faults{n: 100, status: 400},
			wantErr: "400 Bad Request", wantRequests: 1},
		{name: "401 is not retried", mode: invoke.ModeAsync, faults: &faults{n: 100, status: 401},
			wantErr: "401 Unauthorized", wantRequests: 1},
		{name: "unknown function is not retried", mode: invoke.ModeAsync, function: "nope", faults: &faults{},
			wantErr: "unknown function", wantRequests: 1},
		{name: "sync: two 503 then done", mode: invoke.ModeSync, faults: &faults{n: 2, status: 503},
			wantRequests: 3, wantCalls: 1},
		{name: "sync: always 503: bounded", mode: invoke.ModeSync, faults: &faults{n: 100, status: 503}, attempts: 4,
			wantRequests: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sinkCalls{}
			p, srv := gateway(t, s.sink, tt.faults.wrap)
			o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: tt.mode, Attempts: tt.attempts})
			fn := "sink"
			if tt.function != "" {
				fn = tt.function
			}
			err := o.Invoke(context.Background(), fn, []byte("payload"))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Invoke: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Invoke = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.function == "nope" && !errors.Is(err, invoke.ErrUnknownFunction) {
				t.Errorf("Invoke(nope) = %v, want ErrUnknownFunction", err)
			}
			drain(t, o)
			drain(t, p)
			if got := tt.faults.requests.Load(); got != tt.wantRequests {
				t.Errorf("%d requests reached the gateway, want %d", got, tt.wantRequests)
			}
			if got := s.calls(); len(got) != tt.wantCalls {
				t.Errorf("the function ran %d times (%q), want %d", len(got), got, tt.wantCalls)
			}
		})
	}
}

// In sync mode a function answering 500 (it could not record its outcome)
// is called again, a bounded number of times, and the failure is logged.
func TestOpenFaaSSyncRetriesFunctionErrors(t *testing.T) {
	s := &sinkCalls{fail: true}
	_, srv := gateway(t, s.sink, nil)
	log, logs := logtest.New()
	o, err := invoke.NewOpenFaaS(invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: invoke.ModeSync, Attempts: 3,
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Invoke(context.Background(), "sink", []byte("x")); err != nil {
		t.Fatal(err)
	}
	drain(t, o)
	if got := s.calls(); len(got) != 3 {
		t.Errorf("the function ran %d times, want 3", len(got))
	}
	for _, want := range []string{"level=ERROR", "function failed", "function=sink", "sink fails on purpose", "gave up after 3 attempts"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// A retrying Invoke ends with the caller's context.
func TestOpenFaaSRetryHonoursContext(t *testing.T) {
	s := &sinkCalls{}
	f := &faults{n: 1000, status: 503}
	_, srv := gateway(t, s.sink, f.wrap)
	o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: srv.URL, Attempts: 100, RetryBase: time.Second, RetryMax: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := o.Invoke(ctx, "sink", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Invoke took %s after its context ended", took)
	}
}

func TestOpenFaaSGatewayDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: "http://" + addr, Attempts: 3})
	err = o.Invoke(context.Background(), "hook", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), `"hook"`) {
		t.Fatalf("Invoke = %v, want a connection error after 3 attempts naming the function", err)
	}
}

func TestOpenFaaSBasicAuth(t *testing.T) {
	requireAuth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="gateway"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name, user, password string
		wantErr              bool
	}{
		{name: "right credentials", user: "admin", password: "s3cret"},
		{name: "wrong password", user: "admin", password: "guess", wantErr: true},
		{name: "none", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{invoke.ModeAsync, invoke.ModeSync} {
				s := &sinkCalls{}
				p, srv := gateway(t, s.sink, requireAuth)
				o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: mode, User: tt.user, Password: tt.password})
				err := o.Invoke(context.Background(), "sink", []byte("x"))
				if mode == invoke.ModeAsync && (err != nil) != tt.wantErr {
					t.Errorf("%s: Invoke = %v, want error %v", mode, err, tt.wantErr)
				}
				drain(t, o)
				drain(t, p)
				if got := len(s.calls()); (got == 1) == tt.wantErr {
					t.Errorf("%s: the function ran %d times", mode, got)
				}
			}
		})
	}
}

func TestOpenFaaSClose(t *testing.T) {
	for _, mode := range []string{invoke.ModeAsync, invoke.ModeSync} {
		t.Run(mode, func(t *testing.T) {
			s := &sinkCalls{}
			_, srv := gateway(t, s.sink, nil)
			o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: mode})
			o.Close()
			if err := o.Invoke(context.Background(), "sink", nil); !errors.Is(err, invoke.ErrClosed) {
				t.Errorf("Invoke after Close = %v, want ErrClosed", err)
			}
			o.Close() // idempotent
		})
	}
}

// Close cancels a sync call still running: the function sees its request's
// context end, and Close returns.
func TestOpenFaaSCloseCancelsSyncCalls(t *testing.T) {
	entered := make(chan struct{})
	ended := make(chan error, 1)
	_, srv := gateway(t, func(ctx context.Context, _ []byte) error {
		close(entered)
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
		case <-time.After(time.Minute):
			ended <- errors.New("never cancelled")
		}
		return nil
	}, nil)
	o := newOpenFaaS(t, invoke.OpenFaaSConfig{Gateway: srv.URL, Mode: invoke.ModeSync})
	if err := o.Invoke(context.Background(), "sink", nil); err != nil {
		t.Fatal(err)
	}
	<-entered
	closed := make(chan struct{})
	go func() { o.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the function's request ended with %v, want context.Canceled", err)
	}
}

func TestNewOpenFaaSChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  invoke.OpenFaaSConfig
		want string
	}{
		{name: "no gateway", cfg: invoke.OpenFaaSConfig{}, want: "POUCH_GATEWAY"},
		{name: "relative gateway", cfg: invoke.OpenFaaSConfig{Gateway: "gateway:8080"}, want: "not an absolute http(s) URL"},
		{name: "ftp gateway", cfg: invoke.OpenFaaSConfig{Gateway: "ftp://gateway"}, want: "not an absolute http(s) URL"},
		{name: "bad mode", cfg: invoke.OpenFaaSConfig{Gateway: "http://g:8080", Mode: "later"}, want: `mode "later"`},
		{name: "bad callback", cfg: invoke.OpenFaaSConfig{Gateway: "http://g:8080", CallbackURL: "/cb"}, want: "callback URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := invoke.NewOpenFaaS(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewOpenFaaS = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
