package lambdatest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRuntimeAPIFake speaks the Runtime API to the fake as a runtime would.
func TestRuntimeAPIFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt := NewRuntimeAPIFake(t, "pouch-test")
	base := "http://" + rt.Addr() + "/2018-06-01/runtime/invocation/"
	first, second := rt.Enqueue([]byte(`{"n":1}`)), rt.Enqueue([]byte(`{"n":2}`))

	next := func() (string, http.Header) {
		resp, err := http.Get(base + "next")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Header
	}
	event, h := next()
	if event != `{"n":1}` || h.Get(HeaderRequestID) != first.ID || h.Get(HeaderFunctionArn) != ARN("pouch-test") ||
		!strings.HasPrefix(h.Get(HeaderTraceID), "Root=1-") {
		t.Errorf("next: %s %v", event, h)
	}
	ms, err := strconv.ParseInt(h.Get(HeaderDeadlineMs), 10, 64)
	if d := time.Until(time.UnixMilli(ms)); err != nil || d < 50*time.Second || d > 61*time.Second {
		t.Errorf("deadline %q is not a minute from now", h.Get(HeaderDeadlineMs))
	}
	if code, _ := post(t, base+first.ID+"/response", `{"ok":true}`); code != http.StatusAccepted {
		t.Errorf("response: %d", code)
	}
	if code, _ := post(t, base+first.ID+"/response", `{}`); code != http.StatusBadRequest {
		t.Errorf("second response to one invocation: %d, want 400", code)
	}
	if res, err := first.Wait(ctx); err != nil || string(res.Response) != `{"ok":true}` || res.Error != nil {
		t.Errorf("first: %+v, %v", res, err)
	}

	_, h = next()
	if code, _ := post(t, base+second.ID+"/error", `not json`); code != http.StatusBadRequest {
		t.Errorf("error that is not Lambda's JSON: %d, want 400", code)
	}
	if code, _ := post(t, base+second.ID+"/error", `{"errorMessage":"boom","errorType":"Bad"}`,
		HeaderFunctionErrType, "Bad"); code != http.StatusAccepted {
		t.Errorf("error: %d", code)
	}
	if res, err := second.Wait(ctx); err != nil || res.Error == nil || res.Error.Message != "boom" || res.Error.Header != "Bad" {
		t.Errorf("second: %+v, %v", res, err)
	}
	if code, _ := post(t, base+"no-such-id/response", `{}`); code != http.StatusBadRequest {
		t.Errorf("response to an unknown id: %d, want 400", code)
	}
	if rt.Served() != 2 || rt.Polls() != 2 {
		t.Errorf("served %d, polls %d; want 2, 2", rt.Served(), rt.Polls())
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"pouch-hook":                       "pouch-hook",
		"pouch-hook:live":                  "pouch-hook",
		"123456789012:function:pouch-hook": "pouch-hook",
		ARN("pouch-hook"):                  "pouch-hook",
		ARN("pouch-hook") + ":7":           "pouch-hook",
	} {
		if got := functionName(in); got != want {
			t.Errorf("functionName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInvokeAPIFake checks the answers an invoker relies on.
func TestInvokeAPIFake(t *testing.T) {
	api := NewInvokeAPIFake(t)
	rt := NewRuntimeAPIFake(t, "pouch-hook")
	api.Add(rt)
	url := func(name string) string { return api.URL() + "/2015-03-31/functions/" + name + "/invocations" }
	signed := []string{"Authorization", "AWS4-HMAC-SHA256 Credential=AK/20260101/" + Region + "/lambda/aws4_request, SignedHeaders=host, Signature=x"}
	event := append([]string{"X-Amz-Invocation-Type", "Event"}, signed...)
	tests := []struct {
		name   string
		target string
		body   string
		header []string
		code   int
		want   string
	}{
		{"event", "pouch-hook", `{"task":1}`, event, http.StatusAccepted, ""},
		{"unsigned", "pouch-hook", `{}`, []string{"X-Amz-Invocation-Type", "Event"}, http.StatusForbidden, "signature"},
		{"unknown function", "nope", `{}`, event, http.StatusNotFound, "Function not found"},
		{"not JSON", "pouch-hook", `task`, event, http.StatusBadRequest, "Could not parse"},
		{"too large for an event", "pouch-hook", `"` + strings.Repeat("x", 1<<20) + `"`, event, http.StatusRequestEntityTooLarge, "smaller than"},
		{"dry run", "pouch-hook", `{}`, append([]string{"X-Amz-Invocation-Type", "DryRun"}, signed...), http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, url(tt.target), tt.body, tt.header...)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s, want %d with %q", code, body, tt.code, tt.want)
			}
		})
	}
	if api.Events() != 1 || rt.Served() != 0 {
		t.Errorf("events %d, served %d: want one queued, none served", api.Events(), rt.Served())
	}
}

// handlerFunc is a lambda.Handler.
type handlerFunc func(ctx context.Context, event []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) { return f(ctx, event) }

// TestInvokeAPIFakeRequestResponse: a synchronous invocation answers what
// the function answered, or its error with X-Amz-Function-Error.
func TestInvokeAPIFakeRequestResponse(t *testing.T) {
	api := NewInvokeAPIFake(t)
	rt := NewRuntimeAPIFake(t, "pouch-echo")
	api.Add(rt)
	RunInProcess(t, rt, handlerFunc(func(_ context.Context, event []byte) ([]byte, error) {
		if string(event) == `"fail"` {
			return nil, errors.New("failed on purpose")
		}
		return event, nil
	}))
	signed := []string{"Authorization", "AWS4-HMAC-SHA256 Credential=AK/20260101/" + Region + "/lambda/aws4_request"}
	url := api.URL() + "/2015-03-31/functions/pouch-echo/invocations"
	for _, tt := range []struct {
		body, want string
		failed     bool
	}{
		{`{"a":1}`, `{"a":1}`, false},
		{`"fail"`, `"errorMessage":"failed on purpose"`, true},
	} {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(signed[0], signed[1])
		req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		failed := resp.Header.Get("X-Amz-Function-Error") == "Unhandled"
		if resp.StatusCode != http.StatusOK || failed != tt.failed || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s (function error %v), want 200 with %s", tt.body, resp.StatusCode, b, failed, tt.want)
		}
	}
}
