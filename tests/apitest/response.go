package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Response is one API answer. Body is the decoded JSON object (nil when the
// body is empty).
type Response struct {
	What   string // "METHOD path", for messages
	Code   int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Do sends a request to the API at e with X-Auth-Token tok (none if empty)
// to path (absolute, e.g. /v1/<project>/plans). body is sent as it is if it
// is a string, else as JSON. Every response must be application/json and,
// when not empty, a JSON object.
func (e *Env) Do(tb testing.TB, tok, method, path string, body any) *Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.Srv.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json") // python-karborclient sends it on every call
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	resp, err := e.Srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	r := &Response{What: method + " " + path, Code: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		tb.Fatalf("%s: read body: %v", r.What, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("%s: Content-Type %q, want application/json", r.What, ct)
	}
	if len(r.Raw) > 0 {
		if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
			tb.Fatalf("%s: %d body is not a JSON object: %v: %s", r.What, r.Code, err, r.Raw)
		}
	}
	return r
}

// OK checks that the status is 200 and returns r.
func (r *Response) OK(tb testing.TB) *Response {
	tb.Helper()
	return r.Status(tb, http.StatusOK)
}

// Status checks the status code and returns r.
func (r *Response) Status(tb testing.TB, code int) *Response {
	tb.Helper()
	if r.Code != code {
		tb.Fatalf("%s: status %d, want %d: %s", r.What, r.Code, code, r.Raw)
	}
	return r
}

// FaultNames is spec §1.2's fault name by status.
var FaultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
	409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 501: "notImplemented", 503: "serviceUnavailable",
}

// Fault checks that r is Karbor's fault {"<name>": {"code": code, "message":
// "..."}} (413 adds "retryAfter") and that the message contains every
// string of want. It returns the message.
func (r *Response) Fault(tb testing.TB, code int, want ...string) string {
	tb.Helper()
	r.Status(tb, code)
	name := FaultNames[code]
	if name == "" {
		name = "computeFault"
	}
	f, ok := r.Body[name].(map[string]any)
	if !ok || len(r.Body) != 1 {
		tb.Fatalf("%s: body %s, want a single %q fault", r.What, r.Raw, name)
	}
	msg, _ := f["message"].(string)
	if f["code"] != float64(code) || msg == "" || len(f) != 2 && !(code == 413 && len(f) == 3) {
		tb.Fatalf("%s: fault %s, want code %d and a message", r.What, r.Raw, code)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			tb.Errorf("%s: fault message %q does not contain %q", r.What, msg, w)
		}
	}
	return msg
}

// Get walks the body along path: object keys (string) and list indices
// (int).
func (r *Response) Get(tb testing.TB, path ...any) any {
	tb.Helper()
	var v any = r.Body
	for i, p := range path {
		var ok bool
		switch k := p.(type) {
		case string:
			var m map[string]any
			if m, ok = v.(map[string]any); ok {
				v, ok = m[k]
			}
		case int:
			var l []any
			if l, ok = v.([]any); ok && k < len(l) {
				v = l[k]
			} else {
				ok = false
			}
		}
		if !ok {
			tb.Fatalf("%s: no %v in %s", r.What, path[:i+1], r.Raw)
		}
	}
	return v
}

// Str is the string at path.
func (r *Response) Str(tb testing.TB, path ...any) string {
	tb.Helper()
	s, ok := r.Get(tb, path...).(string)
	if !ok {
		tb.Fatalf("%s: %v is not a string in %s", r.What, path, r.Raw)
	}
	return s
}

// List is the list at path.
func (r *Response) List(tb testing.TB, path ...any) []any {
	tb.Helper()
	l, ok := r.Get(tb, path...).([]any)
	if !ok {
		tb.Fatalf("%s: %v is not a list in %s", r.What, path, r.Raw)
	}
	return l
}

// IDs are the "id" fields of the list at path, in order.
func (r *Response) IDs(tb testing.TB, path ...any) []string {
	tb.Helper()
	var out []string
	for _, it := range r.List(tb, path...) {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		out = append(out, id)
	}
	return out
}

// EqualJSON reports whether a and b are the same once sent as JSON.
func EqualJSON(a, b any) bool {
	norm := func(v any) (out any) {
		data, _ := json.Marshal(v) // test values always marshal
		_ = json.Unmarshal(data, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
