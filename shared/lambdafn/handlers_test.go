package lambdafn_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/pouchdp/pouch/shared/lambdafn"
)

// echo answers what it was asked, as JSON, with the status in ?status=.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Query().Get("binary") != "" {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0xff, 0xfe, 0x00, 0x01})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Add("Set-Cookie", "a=1")
	code := http.StatusOK
	if s := r.URL.Query().Get("status"); s != "" {
		fmt.Sscan(s, &code)
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
		"token": r.Header.Get("X-Auth-Token"), "body": string(body), "deadline": fmt.Sprint(hasDeadline(r.Context())),
	})
})

func hasDeadline(ctx context.Context) bool { _, ok := ctx.Deadline(); return ok }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func httpAPIEvent(method, path, query, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: query,
		Headers: map[string]string{"x-auth-token": "u:p1", "content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			APIID: "abc123", DomainName: "abc123.execute-api.us-east-1.amazonaws.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "192.0.2.1"},
		},
		Body: body, IsBase64Encoded: b64,
	}
}

func functionURLEvent(method, path, body string) events.LambdaFunctionURLRequest {
	return events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: path, Headers: map[string]string{"x-auth-token": "u:p1"},
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: "xyz.lambda-url.us-east-1.on.aws", DomainPrefix: "xyz",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "192.0.2.1"},
		},
		Body: body,
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name       string
		event      any
		wantStatus int
		want       map[string]string // fields of the echoed JSON
		wantBinary []byte
		wantCookie bool
	}{
		{name: "HTTP API GET", event: httpAPIEvent("GET", "/v1/p1/providers", "limit=2&marker=x", "", false),
			wantStatus: 200, want: map[string]string{"method": "GET", "path": "/v1/p1/providers", "query": "limit=2&marker=x", "token": "u:p1", "deadline": "true"},
			wantCookie: true},
		{name: "HTTP API POST base64 body", event: httpAPIEvent("POST", "/v1/p1/plans", "", base64.StdEncoding.EncodeToString([]byte(`{"plan":{}}`)), true),
			wantStatus: 200, want: map[string]string{"method": "POST", "body": `{"plan":{}}`}},
		{name: "an error status is a response", event: httpAPIEvent("GET", "/v1/p1/plans/x", "status=404", "", false),
			wantStatus: 404, want: map[string]string{"path": "/v1/p1/plans/x"}},
		{name: "Function URL", event: functionURLEvent("DELETE", "/v1/p1/plans/x", "{}"),
			wantStatus: 200, want: map[string]string{"method": "DELETE", "path": "/v1/p1/plans/x", "body": "{}", "token": "u:p1"}},
		{name: "binary response is base64", event: httpAPIEvent("GET", "/x", "binary=1", "", false),
			wantStatus: 200, wantBinary: []byte{0xff, 0xfe, 0x00, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			out, err := lambda.NewHandler(lambdafn.HTTP(echo)).Invoke(ctx, mustJSON(t, tt.event))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			// The Function URL response has the same JSON as the HTTP API's.
			var resp events.LambdaFunctionURLResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response %s: %v", out, err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, out)
			}
			if tt.wantBinary != nil {
				got, err := base64.StdEncoding.DecodeString(resp.Body)
				if !resp.IsBase64Encoded || err != nil || string(got) != string(tt.wantBinary) {
					t.Errorf("binary body: base64 %v, %q, %v", resp.IsBase64Encoded, resp.Body, err)
				}
				return
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.wantCookie && (len(resp.Cookies) != 1 || resp.Cookies[0] != "a=1") {
				t.Errorf("cookies %v, want [a=1]", resp.Cookies)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (%v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestHTTPRejectsOtherEvents(t *testing.T) {
	tests := []struct {
		name  string
		event string
	}{
		{"EventBridge schedule", `{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`},
		{"API Gateway REST (payload 1.0)", `{"resource":"/","path":"/","httpMethod":"GET","version":"1.0","requestContext":{}}`},
		{"empty object", `{}`},
		{"not JSON", `GET / HTTP/1.1`},
		{"array", `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			_, err := lambda.NewHandler(lambdafn.HTTP(h)).Invoke(context.Background(), []byte(tt.event))
			le := lambdaErr(t, err)
			if le.Type != lambdafn.InvalidEvent || le.Message == "" {
				t.Errorf("error %+v, want type %s", le, lambdafn.InvalidEvent)
			}
			if called {
				t.Error("the handler was called")
			}
		})
	}
}

// lambdaErr checks that err reaches Lambda as {"errorMessage","errorType"}.
func lambdaErr(t *testing.T, err error) messages.InvokeResponse_Error {
	t.Helper()
	var le messages.InvokeResponse_Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a Lambda error response", err, err)
	}
	b := mustJSON(t, le)
	var shape map[string]any
	_ = json.Unmarshal(b, &shape)
	if _, ok := shape["errorMessage"]; !ok || shape["errorType"] == "" {
		t.Errorf("error JSON %s", b)
	}
	return le
}

func TestTaskAndEvent(t *testing.T) {
	base := errors.New("redis down")
	tests := []struct {
		name     string
		handler  lambda.Handler
		want     string
		wantType string // "" for success
		wantMsg  string
	}{
		{name: "task ok", handler: lambdafn.Task(func(_ context.Context, p []byte) error {
			if string(p) != `{"task":1}` {
				return fmt.Errorf("payload %s", p)
			}
			return nil
		}), want: "null"},
		{name: "task typed error", handler: lambdafn.Task(func(context.Context, []byte) error {
			return fmt.Errorf("wrapped: %w", lambdafn.WithType("InvalidTask", base))
		}), wantType: "InvalidTask", wantMsg: "wrapped: redis down"},
		{name: "task untyped error", handler: lambdafn.Task(func(context.Context, []byte) error { return base }),
			wantType: lambdafn.DefaultErrorType, wantMsg: "redis down"},
		{name: "event result", handler: lambdafn.Event(func(_ context.Context, p []byte) (any, error) {
			return map[string]int{"len": len(p)}, nil
		}), want: `{"len":10}`},
		{name: "event unencodable result", handler: lambdafn.Event(func(context.Context, []byte) (any, error) {
			return make(chan int), nil
		}), wantType: lambdafn.DefaultErrorType, wantMsg: "encode the response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := lambda.NewHandler(tt.handler).Invoke(context.Background(), []byte(`{"task":1}`))
			if tt.wantType == "" {
				if err != nil || string(out) != tt.want {
					t.Fatalf("Invoke = %s, %v; want %s", out, err, tt.want)
				}
				return
			}
			le := lambdaErr(t, err)
			if le.Type != tt.wantType || !strings.Contains(le.Message, tt.wantMsg) {
				t.Errorf("error %+v, want type %s and %q", le, tt.wantType, tt.wantMsg)
			}
		})
	}
}

func TestLazy(t *testing.T) {
	builds := 0
	h := lambda.NewHandler(lambdafn.Lazy(func(ctx context.Context) (lambda.Handler, error) {
		builds++
		if builds == 1 {
			return nil, lambdafn.WithType("Unavailable", errors.New("redis: connection refused"))
		}
		n := builds
		return lambdafn.Event(func(context.Context, []byte) (any, error) { return n, nil }), nil
	}))
	_, err := h.Invoke(context.Background(), []byte(`{}`))
	if le := lambdaErr(t, err); le.Type != "Unavailable" || !strings.Contains(le.Message, "connection refused") {
		t.Errorf("first invoke: %+v", le)
	}
	for i := range 3 {
		out, err := h.Invoke(context.Background(), []byte(`{}`))
		if err != nil || string(out) != "2" {
			t.Fatalf("invoke %d = %s, %v; want the second build's handler", i+2, out, err)
		}
	}
	if builds != 2 {
		t.Errorf("built %d times, want 2 (a failure is retried, a success kept)", builds)
	}
}

func TestLazyKeepsInnerErrorType(t *testing.T) {
	h := lambdafn.Lazy(func(context.Context) (lambda.Handler, error) {
		return lambdafn.HTTP(echo), nil
	})
	_, err := lambda.NewHandler(h).Invoke(context.Background(), []byte(`{}`))
	if le := lambdaErr(t, err); le.Type != lambdafn.InvalidEvent {
		t.Errorf("error %+v, want %s", le, lambdafn.InvalidEvent)
	}
}

func TestErrorType(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("x"), lambdafn.DefaultErrorType},
		{lambdafn.WithType("A", errors.New("x")), "A"},
		{fmt.Errorf("ctx: %w", lambdafn.WithType("B", errors.New("x"))), "B"},
		{lambdafn.WithType("Outer", lambdafn.WithType("Inner", errors.New("x"))), "Outer"},
	}
	for _, tt := range tests {
		if got := lambdafn.ErrorType(tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if lambdafn.WithType("A", nil) != nil {
		t.Error("WithType(nil) is not nil")
	}
}
