package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/lambdatest"
)

const (
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	dirProvider  = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
)

// TestAPI: the api function answers HTTP API and Function URL requests; an
// API error is an HTTP response in Karbor's fault format, not a Lambda
// error; an event that is not an HTTP request is a Lambda error.
func TestAPI(t *testing.T) {
	d := deploy(t)
	api := d.function("api", 1)
	tests := []struct {
		name   string
		event  []byte
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{name: "HTTP API: list providers", event: lambdatest.HTTPAPIEvent("GET", "/v1/p1/providers", "u:p1", ""), status: 200,
			check: func(t *testing.T, body map[string]any) {
				ids := map[string]bool{}
				list, _ := body["providers"].([]any)
				for _, p := range list {
					p, _ := p.(map[string]any)
					ids[p["id"].(string)] = p["name"] != "" && p["extended_info_schema"] != nil
				}
				if len(ids) != 2 || !ids[noopProvider] || !ids[dirProvider] {
					t.Errorf("providers %v", body)
				}
			}},
		{name: "Function URL: show provider", event: lambdatest.FunctionURLEvent("GET", "/v1/p1/providers/"+noopProvider, "u:p1", ""), status: 200,
			check: func(t *testing.T, body map[string]any) {
				if p, _ := body["provider"].(map[string]any); p["name"] != "No-Op Provider" {
					t.Errorf("provider %v", body)
				}
			}},
		{name: "HTTP API: bad request", event: lambdatest.HTTPAPIEvent("POST", "/v1/p1/plans", "u:p1", `{"plan": "not a plan"}`), status: 400,
			check: faultCheck("badRequest", 400)},
		{name: "Function URL: bad query", event: lambdatest.FunctionURLEvent("GET", "/v1/p1/providers?limit=-3", "u:p1", ""), status: 400,
			check: faultCheck("badRequest", 400)},
		{name: "HTTP API: no token", event: lambdatest.HTTPAPIEvent("GET", "/v1/p1/providers", "", ""), status: 401,
			check: faultCheck("unauthorized", 401)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, api, tt.event)
			if res.Error != nil {
				t.Fatalf("Lambda error %+v: an HTTP status must be a response", res.Error)
			}
			resp, err := lambdatest.HTTPResponse(res.Response)
			if err != nil {
				t.Fatalf("%v: %s", err, res.Response)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			tt.check(t, body)
		})
	}
	t.Run("not an HTTP event", func(t *testing.T) {
		res := invoke(t, api, lambdatest.ScheduleEvent(time.Now()))
		lambdaError(t, res, "InvalidEvent", "HTTP")
	})
	t.Run("one environment served every event", func(t *testing.T) {
		if n := api.Served(); n != int64(len(tests)+1) {
			t.Errorf("served %d events, want %d", n, len(tests)+1)
		}
	})
}

// faultCheck expects Karbor's fault body {name: {"code": code, "message": ...}}.
func faultCheck(name string, code int) func(t *testing.T, body map[string]any) {
	return func(t *testing.T, body map[string]any) {
		f, _ := body[name].(map[string]any)
		if f == nil || f["code"] != float64(code) || f["message"] == "" || len(body) != 1 {
			t.Errorf("fault %v, want {%q: {code: %d, message}}", body, name, code)
		}
	}
}

// lambdaError expects the runtime to have posted {"errorMessage",
// "errorType"} to /error.
func lambdaError(t *testing.T, res lambdatest.Result, typ, msg string) {
	t.Helper()
	if res.Error == nil {
		t.Fatalf("response %s, want a Lambda error %s", res.Response, typ)
	}
	var shape map[string]any
	if err := json.Unmarshal(res.Error.Raw, &shape); err != nil || shape["errorMessage"] == nil || shape["errorType"] == nil {
		t.Errorf("error body %s is not {errorMessage, errorType}", res.Error.Raw)
	}
	if res.Error.Type != typ || !strings.Contains(res.Error.Message, msg) {
		t.Errorf("Lambda error %q of type %q, want type %q containing %q", res.Error.Message, res.Error.Type, typ, msg)
	}
}

// TestTick: the tick function runs its jobs for an EventBridge schedule
// event and for a direct invoke.
func TestTick(t *testing.T) {
	d := deploy(t)
	tick := d.function("tick", 1)
	for _, tt := range []struct {
		name  string
		event []byte
	}{
		{"EventBridge schedule", lambdatest.ScheduleEvent(time.Now())},
		{"direct invoke", []byte(`{}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, tick, tt.event)
			if res.Error != nil {
				t.Fatalf("Lambda error %+v", res.Error)
			}
			var out struct {
				Jobs map[string]struct {
					Error string
					Took  string
				}
			}
			if err := json.Unmarshal(res.Response, &out); err != nil {
				t.Fatalf("%v: %s", err, res.Response)
			}
			for _, job := range []string{"heartbeat", "triggers", "sweep"} {
				if j, ok := out.Jobs[job]; !ok || j.Error != "" || j.Took == "" {
					t.Errorf("job %s: %+v in %s", job, j, res.Response)
				}
			}
		})
	}
	// The api function, in another environment, sees the tick's heartbeat
	// in the shared Redis.
	api := d.function("api", 1)
	var svcs struct {
		Services []struct{ Binary, State string }
	}
	must(t, api, "GET", "/v1/p1/os-services?binary=pouch-tick", "p1", nil, &svcs)
	if len(svcs.Services) != 1 || svcs.Services[0].State != "up" {
		t.Errorf("os-services of pouch-tick after a tick: %+v, want one, up", svcs.Services)
	}
}

// TestHook: the hook function takes a task; a task it cannot read is a
// Lambda error of type InvalidTask, and the environment goes on.
func TestHook(t *testing.T) {
	d := deploy(t)
	hook := lambdatest.NewRuntimeAPIFake(t, "pouch-hook")
	p := lambdatest.Start(t, d.binary, hook, d.env("hook")...)
	for _, event := range []string{`{"op":""}`, `{"op":"x","task":-2}`, `"a string"`, `not JSON at all`} {
		lambdaError(t, invoke(t, hook, []byte(event)), "InvalidTask", "task payload")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv := hook.Enqueue([]byte(`{"op":"0b9e6a5c-gone","task":0}`))
	res, err := inv.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil || string(res.Response) != "null" {
		t.Errorf("a task of an operation that is gone: %s %+v, want null", res.Response, res.Error)
	}
	// The function logs JSON on stderr, with the invocation's request id
	// (the pipe may deliver it a little after the answer).
	deadline := time.Now().Add(10 * time.Second)
	for !logged(p.Logs.String(), "task of an unknown operation dropped", inv.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("no JSON log of the dropped task with requestId %s and function hook:\n%s", inv.ID, p.Logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logged reports whether logs hold a JSON record msg of the hook function
// with requestId.
func logged(logs, msg, requestID string) bool {
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg &&
			rec["requestId"] == requestID && rec["function"] == "hook" {
			return true
		}
	}
	return false
}

// TestInitErrors: settings that cannot work are reported to
// /runtime/init/error as {"errorMessage", "errorType"} and the process
// exits.
func TestInitErrors(t *testing.T) {
	d := deploy(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no POUCH_REDIS", []string{"POUCH_REDIS="}, "POUCH_REDIS is not set"},
		{"no POUCH_FUNCTION", []string{"POUCH_FUNCTION="}, "POUCH_FUNCTION is not set"},
		{"unknown POUCH_FUNCTION", []string{"POUCH_FUNCTION=web"}, "api, hook or tick"},
		{"bad POUCH_LOG_LEVEL", []string{"POUCH_LOG_LEVEL=loud"}, "POUCH_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rt := lambdatest.NewRuntimeAPIFake(t, "pouch-api")
			p := lambdatest.Start(t, d.binary, rt, d.env("api", tt.env...)...)
			got, err := rt.InitError(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != "ConfigError" || got.Header != "ConfigError" || !strings.Contains(got.Message, tt.want) {
				t.Errorf("init error %+v, want ConfigError containing %q", got, tt.want)
			}
			if code, err := p.Wait(ctx); err != nil || code != 1 {
				t.Errorf("exit %d, %v; want 1", code, err)
			}
			if rt.Polls() != 0 {
				t.Errorf("the runtime asked for %d events after failing to initialise", rt.Polls())
			}
		})
	}
}

// TestNotInLambda: without AWS_LAMBDA_RUNTIME_API the bootstrap says what it
// is and exits 2, instead of aws-lambda-go's terse fatal error.
func TestNotInLambda(t *testing.T) {
	cmd := exec.Command(bootstrap(t))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "POUCH_FUNCTION=api"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2: %s", err, out)
	}
	for _, want := range []string{"AWS_LAMBDA_RUNTIME_API is not set", "AWS Lambda", "pouch serve"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}
