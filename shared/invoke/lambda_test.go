package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/invoke/invoketest"
	"github.com/pouchdp/pouch/shared/lambdafn"
	"github.com/pouchdp/pouch/tests/lambdatest"
)

var (
	_ invoker        = (*invoke.Lambda)(nil)
	_ invoke.Invoker = (*invoke.Lambda)(nil) // what Config.New returns
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLambdaConfigFromEnv(t *testing.T) {
	creds := map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "ST"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range creds {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    invoke.LambdaConfig
		wantErr string
	}{
		{name: "defaults", env: with("AWS_REGION", "eu-west-1"),
			want: invoke.LambdaConfig{Region: "eu-west-1", Prefix: "pouch-", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST"}},
		{name: "default region and endpoint fallbacks", env: with("AWS_DEFAULT_REGION", "us-west-2", "AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:1"),
			want: invoke.LambdaConfig{Region: "us-west-2", Prefix: "pouch-", Endpoint: "http://127.0.0.1:1", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST"}},
		{name: "everything set", env: with("AWS_REGION", "eu-west-1", "POUCH_LAMBDA_FUNCTION_PREFIX", "prod-pouch-",
			"POUCH_LAMBDA_FUNCTIONS", " hook = arn:aws:lambda:eu-west-1:1:function:h:live , tick=t ", "POUCH_LAMBDA_ENDPOINT", "http://127.0.0.1:2",
			"AWS_ENDPOINT_URL_LAMBDA", "http://ignored", "POUCH_LAMBDA_MAX_ATTEMPTS", "5", "POUCH_LAMBDA_TIMEOUT", "3s"),
			want: invoke.LambdaConfig{Region: "eu-west-1", Prefix: "prod-pouch-",
				Functions: map[string]string{"hook": "arn:aws:lambda:eu-west-1:1:function:h:live", "tick": "t"},
				Endpoint:  "http://127.0.0.1:2", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST",
				MaxAttempts: 5, Timeout: 3 * time.Second}},
		{name: "prefix set empty", env: with("AWS_REGION", "eu-west-1", "POUCH_LAMBDA_FUNCTION_PREFIX", ""),
			want: invoke.LambdaConfig{Region: "eu-west-1", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST"}},
		{name: "bad map", env: with("POUCH_LAMBDA_FUNCTIONS", "hook"), wantErr: "POUCH_LAMBDA_FUNCTIONS"},
		{name: "map twice", env: with("POUCH_LAMBDA_FUNCTIONS", "hook=a,hook=b"), wantErr: "twice"},
		{name: "bad attempts", env: with("POUCH_LAMBDA_MAX_ATTEMPTS", "0"), wantErr: "POUCH_LAMBDA_MAX_ATTEMPTS"},
		{name: "bad timeout", env: with("POUCH_LAMBDA_TIMEOUT", "soon"), wantErr: "POUCH_LAMBDA_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := invoke.LambdaConfigFromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNewLambdaNeeds(t *testing.T) {
	ok := invoke.LambdaConfig{Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "SK"}
	tests := []struct {
		name   string
		change func(*invoke.LambdaConfig)
		want   string
	}{
		{"a region", func(c *invoke.LambdaConfig) { c.Region = "" }, "AWS_REGION"},
		{"an access key", func(c *invoke.LambdaConfig) { c.AccessKeyID = "" }, "AWS_ACCESS_KEY_ID"},
		{"a secret key", func(c *invoke.LambdaConfig) { c.SecretAccessKey = "" }, "AWS_SECRET_ACCESS_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			if _, err := invoke.NewLambda(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := invoke.NewLambda(ok); err != nil {
		t.Errorf("complete config: %v", err)
	}
}

func TestLambdaFunctionName(t *testing.T) {
	l, err := invoke.NewLambda(invoke.LambdaConfig{Region: "us-east-1", AccessKeyID: "AK", SecretAccessKey: "SK",
		Prefix: "prod-", Functions: map[string]string{"hook": "arn:aws:lambda:us-east-1:1:function:h:live"}})
	if err != nil {
		t.Fatal(err)
	}
	for fn, want := range map[string]string{"hook": "arn:aws:lambda:us-east-1:1:function:h:live", "tick": "prod-tick", "api": "prod-api"} {
		if got := l.FunctionName(fn); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", fn, got, want)
		}
	}
}

// sink is a function behind the fakes that records the payloads it gets.
type sink struct {
	mu       sync.Mutex
	payloads []string
	got      chan struct{}
}

func newSink(t *testing.T, invokeAPI *lambdatest.InvokeAPIFake, name string) *sink {
	s := &sink{got: make(chan struct{}, 100)}
	rt := lambdatest.NewRuntimeAPIFake(t, name)
	invokeAPI.Add(rt)
	lambdatest.RunInProcess(t, rt, lambdafn.Task(func(_ context.Context, p []byte) error {
		s.mu.Lock()
		s.payloads = append(s.payloads, string(p))
		s.mu.Unlock()
		s.got <- struct{}{}
		return nil
	}))
	return s
}

func (s *sink) wait(t *testing.T, n int) []string {
	t.Helper()
	for range n {
		select {
		case <-s.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("the function got %d of %d events", len(s.payloads), n)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.payloads...)
}

func newLambdaInvoker(t *testing.T, endpoint string, change func(*invoke.LambdaConfig)) *invoke.Lambda {
	t.Helper()
	cfg, err := invoke.LambdaConfigFromEnv(envOf(map[string]string{"AWS_REGION": lambdatest.Region,
		"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "POUCH_LAMBDA_ENDPOINT": endpoint}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxBackoff = 10 * time.Millisecond
	if change != nil {
		change(&cfg)
	}
	l, err := invoke.NewLambda(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLambdaInvoke(t *testing.T) {
	api := lambdatest.NewInvokeAPIFake(t)
	hook := newSink(t, api, "pouch-hook")
	other := newSink(t, api, "other-hook")
	ctx := context.Background()

	l := newLambdaInvoker(t, api.URL(), nil)
	if err := l.Invoke(ctx, "hook", []byte(`{"task":"a"}`)); err != nil {
		t.Fatal(err)
	}
	if got := hook.wait(t, 1); !reflect.DeepEqual(got, []string{`{"task":"a"}`}) {
		t.Errorf("pouch-hook got %v", got)
	}
	if api.Events() != 1 || api.Calls("pouch-hook") != 1 {
		t.Errorf("Invoke API: %d events, %d calls of pouch-hook; want 1, 1", api.Events(), api.Calls("pouch-hook"))
	}

	mapped := newLambdaInvoker(t, api.URL(), func(c *invoke.LambdaConfig) {
		c.Functions = map[string]string{"hook": lambdatest.ARN("other-hook") + ":live"}
	})
	if err := mapped.Invoke(ctx, "hook", []byte(`{"task":"b"}`)); err != nil {
		t.Fatal(err)
	}
	if got := other.wait(t, 1); !reflect.DeepEqual(got, []string{`{"task":"b"}`}) {
		t.Errorf("other-hook got %v", got)
	}
}

func TestLambdaInvokeErrors(t *testing.T) {
	api := lambdatest.NewInvokeAPIFake(t)
	newSink(t, api, "pouch-hook")
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name     string
		endpoint string
		throttle int
		ctx      context.Context
		function string
		wantIs   error
		want     string
		calls    int // calls of pouch-hook the Invoke API saw
	}{
		{name: "unknown function", function: "nope", wantIs: invoke.ErrUnknownFunction, want: "pouch-nope"},
		{name: "empty name", function: "", wantIs: invoke.ErrUnknownFunction},
		{name: "two throttles are retried", function: "hook", throttle: 2, calls: 3},
		{name: "retries are bounded", function: "hook", throttle: 10, want: "TooManyRequests", calls: 3},
		{name: "caller's context done", function: "hook", ctx: cancelled, wantIs: context.Canceled},
		{name: "a hanging API times out", function: "hook", endpoint: hang.URL, wantIs: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := api.Calls("pouch-hook")
			endpoint := api.URL()
			if tt.endpoint != "" {
				endpoint = tt.endpoint
			}
			l := newLambdaInvoker(t, endpoint, func(c *invoke.LambdaConfig) { c.Timeout = 500 * time.Millisecond })
			api.Throttle(tt.throttle)
			defer api.Throttle(0)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			start := time.Now()
			err := l.Invoke(ctx, tt.function, []byte(`{}`))
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Invoke took %s", took)
			}
			switch {
			case tt.wantIs == nil && tt.want == "":
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Fatalf("Invoke = %v, want %v", err, tt.wantIs)
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Invoke = %v, want %q", err, tt.want)
			}
			if got := api.Calls("pouch-hook") - before; tt.calls != 0 && got != tt.calls {
				t.Errorf("the Invoke API saw %d calls, want %d", got, tt.calls)
			}
		})
	}
}

func TestLambdaEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		payload   []byte
		enveloped bool
	}{
		{"JSON task", []byte(`{"op":"x","task":3}`), false},
		{"JSON with newline", []byte("[1,2]\n"), false},
		{"empty", []byte{}, true},
		{"nil", nil, true},
		{"text", []byte("call-001"), true},
		{"binary", []byte{0, 0xff, '{', '}'}, true},
		{"invalid UTF-8 in a JSON string", []byte("\"\xff\""), true},
		{"JSON like an envelope", []byte(`{"pouchPayload":"YQ=="}`), true},
		{"JSON like a broken envelope", []byte(`{"pouchPayload":"!!"}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := invoke.LambdaEvent(tt.payload)
			if !json.Valid(event) {
				t.Fatalf("event %q is not JSON", event)
			}
			if got := !bytes.Equal(event, tt.payload); got != tt.enveloped {
				t.Errorf("event %q: enveloped %v, want %v", event, got, tt.enveloped)
			}
			if got := invoke.LambdaPayload(event); !bytes.Equal(got, tt.payload) {
				t.Errorf("LambdaPayload(%q) = %q, want %q", event, got, tt.payload)
			}
		})
	}
}

// TestLambdaConformance runs the Lambda invoker through the Invoke API fake
// to the Runtime API fake of the function, whose events a runtime loop in
// this process hands to the sink through lambdafn.Task, as the hook's
// bootstrap does.
func TestLambdaConformance(t *testing.T) {
	invoketest.Run(t, func(t *testing.T, sink func(context.Context, []byte) error) invoketest.Harness {
		api := lambdatest.NewInvokeAPIFake(t)
		rt := lambdatest.NewRuntimeAPIFake(t, "pouch-sink")
		api.Add(rt)
		for range 4 { // four execution environments
			lambdatest.RunInProcess(t, rt, lambdafn.Task(sink))
		}
		return invoketest.Harness{Invoker: newLambdaInvoker(t, api.URL(), nil), Function: "sink", Unknown: "nope"}
	})
}
