package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/pouchdp/pouch/shared/lambdafn"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/lambdatest"
	"github.com/pouchdp/pouch/tests/redistest"
)

const noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"

// lambdaEnv is a function's environment: the fakes' Lambda variables, a
// provider directory with the shipped providers, and vars.
func lambdaEnv(t *testing.T, vars ...string) func(string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(provDir); err != nil {
		t.Fatal(err)
	}
	// The provider files read these from the process environment.
	t.Setenv("POUCH_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("POUCH_ALLOWED_ROOTS", dir)
	env := map[string]string{"POUCH_PROVIDERS_DIR": provDir, "POUCH_LOG_LEVEL": "error"}
	for _, kv := range append(lambdatest.Env("pouch-test"), vars...) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func call(t *testing.T, h lambda.Handler, event []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return lambda.NewHandler(h).Invoke(ctx, event)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no function", []string{"POUCH_REDIS=127.0.0.1:1"}, "POUCH_FUNCTION is not set"},
		{"unknown function", []string{"POUCH_FUNCTION=web", "POUCH_REDIS=127.0.0.1:1"}, `POUCH_FUNCTION is "web"`},
		{"no redis", []string{"POUCH_FUNCTION=api"}, "POUCH_REDIS is not set"},
		{"bad log level", []string{"POUCH_FUNCTION=hook", "POUCH_REDIS=127.0.0.1:1", "POUCH_LOG_LEVEL=loud"}, "POUCH_LOG_LEVEL"},
		{"bad invoker setting", []string{"POUCH_FUNCTION=tick", "POUCH_REDIS=127.0.0.1:1", "POUCH_LAMBDA_TIMEOUT=soon"}, "POUCH_LAMBDA_TIMEOUT"},
		{"no region", []string{"POUCH_FUNCTION=tick", "POUCH_REDIS=127.0.0.1:1", "AWS_REGION=", "AWS_DEFAULT_REGION="}, "AWS_REGION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newHandler(lambdaEnv(t, tt.env...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if typ := lambdafn.ErrorType(err); typ != configError {
				t.Errorf("errorType %q, want %s", typ, configError)
			}
		})
	}
}

// lambdaError checks that err is a Lambda error of type typ.
func lambdaError(t *testing.T, err error, typ, msg string) {
	t.Helper()
	var le messages.InvokeResponse_Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a Lambda error", err, err)
	}
	if le.Type != typ || !strings.Contains(le.Message, msg) {
		t.Errorf("Lambda error %q (%s), want type %s containing %q", le.Message, le.Type, typ, msg)
	}
}

// TestHandlersInProcess runs each function's handler in this process, on a
// real redis-server, with the events Lambda would send.
func TestHandlersInProcess(t *testing.T) {
	redis := redistest.Addr(t)
	handler := func(t *testing.T, function string) lambda.Handler {
		h, err := newHandler(lambdaEnv(t, "POUCH_FUNCTION="+function, "POUCH_REDIS="+redis))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	t.Run("api", func(t *testing.T) {
		h := handler(t, "api")
		tests := []struct {
			name  string
			event []byte
			code  int
			key   string // a key of the JSON body
		}{
			{"HTTP API providers", lambdatest.HTTPAPIEvent("GET", "/v1/p1/providers", "u:p1", ""), 200, "providers"},
			{"Function URL provider", lambdatest.FunctionURLEvent("GET", "/v1/p1/providers/"+noopProvider, "u:p1", ""), 200, "provider"},
			{"bad request is a response", lambdatest.HTTPAPIEvent("POST", "/v1/p1/plans", "u:p1", "{not json"), 400, "badRequest"},
			{"not found is a response", lambdatest.HTTPAPIEvent("GET", "/v1/p1/plans/4b0f3d6c-0000-4000-8000-000000000000", "u:p1", ""), 404, "itemNotFound"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := call(t, h, tt.event)
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				resp, err := lambdatest.HTTPResponse(out)
				if err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
					t.Fatalf("body %q: %v", resp.Body, err)
				}
				if resp.StatusCode != tt.code || body[tt.key] == nil {
					t.Errorf("%d %s, want %d with %q", resp.StatusCode, resp.Body, tt.code, tt.key)
				}
			})
		}
		_, err := call(t, h, lambdatest.ScheduleEvent(time.Now()))
		lambdaError(t, err, "InvalidEvent", "HTTP")
	})
	t.Run("hook", func(t *testing.T) {
		h := handler(t, "hook")
		for _, event := range []string{`{"op":""}`, `{"op":"x","task":-1}`, `[]`} {
			_, err := call(t, h, []byte(event))
			lambdaError(t, err, invalidTask, "task payload")
		}
		// A task of an operation that is gone is dropped, not failed.
		out, err := call(t, h, []byte(`{"op":"no-such-operation","task":0}`))
		if err != nil || string(out) != "null" {
			t.Errorf("task of an unknown operation = %s, %v; want null", out, err)
		}
	})
	t.Run("tick", func(t *testing.T) {
		h := handler(t, "tick")
		for _, event := range [][]byte{lambdatest.ScheduleEvent(time.Now()), []byte(`{}`)} {
			out, err := call(t, h, event)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var res struct {
				Jobs map[string]struct{ Error string }
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
			for _, job := range []string{"heartbeat", "triggers", "sweep"} {
				if j, ok := res.Jobs[job]; !ok || j.Error != "" {
					t.Errorf("job %s: %+v in %s", job, j, out)
				}
			}
		}
	})
}

// TestRedisUnavailable: a function whose Redis is down fails each
// invocation with Unavailable, and works once Redis is back.
func TestRedisUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	h, err := newHandler(lambdaEnv(t, "POUCH_FUNCTION=tick", "POUCH_REDIS="+addr))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := call(t, h, []byte(`{}`))
		lambdaError(t, err, unavailable, addr)
	}
}
