package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzBodies seed the body fuzz targets: a valid body of every schema, the
// bodies of Karbor's clients, and JSON that is odd in every way we thought of.
var fuzzBodies = []string{
	planBase,
	`{"plan": {"name": "p", "provider_id": "` + testUUIDHex + `", "parameters": {}, "resources": []}}`,
	`{"plan": {"name": "weekly", "description": null, "status": "started", "resources": []}}`,
	`{"checkpoint": {"plan_id": "` + testUUID + `", "extra-info": null}}`,
	`{"checkpoint": {"plan_id": "` + testUUID + `", "extra-info": {"created_by": "operation-engine", "trigger_id": "t", "n": 1}}}`,
	`{"os-resetState": {"state": "available"}}`,
	`{"copy": {"plan_id": "` + testUUID + `", "parameters": {"OS::Cinder::Volume": {"k": "v"}}}}`,
	`{"restore": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUID + `", "parameters": {}, "restore_target": null,
		"restore_auth": {"type": "password", "username": "u", "password": "p"}}}`,
	`{"verification": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUID + `", "parameters": {"OS::Nova::Server": null}}}`,
	triggerBase,
	`{"trigger_info": {"properties": {"start_time": "2017-06-01 10:00:00", "window": "30"}}}`,
	`{"scheduled_operation": {"name": "so", "description": null, "operation_type": "protect", "trigger_id": "` + testUUID + `",
		"operation_definition": {"provider_id": "` + testUUID + `", "plan_id": "` + testUUID + `", "max_backups": 3}}}`,
	`{"quota": {"plans": 10, "checkpoints": "-1", "x": true}}`,
	`{"quota_class": {"plans": -1}}`,
	`{"status": "disabled", "disabled_reason": "maintenance"}`,
	// Odd JSON.
	``, ` `, `{`, `}`, `[]`, `null`, `0`, `"x"`, `{}`, `{} {}`, `{"plan": null}`, `{"plan": {}}`,
	`{"plan": {"name": "a", "name": 1}}`,
	`{"plan": {"parameters": {"A": {"k": 1.0, "l": 1e2, "m": -0, "n": 1e999999, "o": -1e-999999, "p": 123456789012345678901234567890}}}}`,
	`{"plan": {"parameters": {"A": {"k": 9223372036854775807, "l": -9223372036854775808, "m": 9223372036854775808}}}}`,
	`{"plan": {"name": "\u0000\ud800\udfff\u00e9\u2028", "provider_id": "\u0062766f37c-d011-4026-8228-28730d734a3f"}}`,
	"{\"plan\": {\"name\": \"\xff\xfe\", \"\xc3\": 1}}",
	`{"plan": {"resources": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`,
	`{"plan": {"resources": [{"id": "i", "type": "t", "name": "n", "extra_info": {"a": {"b": {"c": [1.5, null, 1e400]}}}}]}}`,
	`{"checkpoint": {"extra-info": {"": "", " ": 1, "#": true}}}`,
	`{"` + strings.Repeat("k", 300) + `": 1}`,
	`{"status": "enabled", "disabled_reason": "` + strings.Repeat("é", 300) + `"}`,
	"\ufeff{}",
	`{"os-resetState": {"state": "available"}}` + "\n\t ",
}

// FuzzValidate: validate never panics; it accepts a body or refuses it with
// a 400 *Error whose message is short, valid UTF-8 and always the same.
func FuzzValidate(f *testing.F) {
	names := schemaNames()
	if len(names) == 0 {
		f.Fatal("no schemas")
	}
	for i := range names {
		for _, b := range fuzzBodies {
			f.Add(uint8(i), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, index uint8, body []byte) {
		name := names[int(index)%len(names)]
		err := validate(name, body)
		if err == nil {
			return
		}
		ae, ok := err.(*Error)
		if !ok || ae.Code != http.StatusBadRequest {
			t.Fatalf("%s: %#v, want a 400 *Error", name, err)
		}
		if ae.Message == "" || !utf8.ValidString(ae.Message) || len(ae.Message) > 2048 {
			t.Fatalf("%s: message %q", name, ae.Message)
		}
		if again := validate(name, body); again == nil || again.Error() != err.Error() {
			t.Fatalf("%s: %v, then %v", name, err, again)
		}
	})
}

// bodyTarget is what the handler of schema decodes the body into.
func bodyTarget(schema string) any {
	switch schema {
	case "plan_create", "plan_update":
		return new(planBody)
	case "checkpoint_create":
		return new(checkpointBody)
	case "checkpoint_reset":
		return new(resetBody)
	case "checkpoint_copy":
		return new(copyBody)
	case "restore_create":
		return new(restoreBody)
	case "verification_create":
		return new(verificationBody)
	case "trigger_create", "trigger_update":
		return new(triggerBody)
	case "scheduled_operation_create":
		return new(scheduledBody)
	case "service_update":
		return new(serviceBody)
	}
	return new(map[string]any) // quotas
}

// FuzzDecodeBody: decode, as every handler calls it, never panics and
// refuses a body only with a 400 or 413 (a *Error or the body limit's
// error). A body the schema accepts decodes into the handler's type, unless
// a number in it is beyond float64 (the schemas leave extra_info free).
func FuzzDecodeBody(f *testing.F) {
	set, err := schemas()
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	a := &API{Log: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, sch := range set {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBody)
			err := decode(r, name, wrapperOf(sch), bodyTarget(name))
			if err == nil {
				continue
			}
			var ae *Error
			var mbe *http.MaxBytesError
			if !errors.As(err, &ae) && !errors.As(err, &mbe) {
				t.Fatalf("%s: %#v, want a *Error or a *http.MaxBytesError", name, err)
			}
			if code, msg := a.status(context.Background(), err); code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge || msg == "" {
				t.Fatalf("%s: %d %q, want 400 or 413", name, code, msg)
			}
			if len(body) <= MaxBody && validate(name, body) == nil && !strings.Contains(err.Error(), "cannot unmarshal number") {
				t.Fatalf("%s: the schema accepts %q, the handler's type does not: %v", name, body, err)
			}
		}
	})
}

// TestDecodeValidPlans: the schema's plans decode into the handler's type
// with their values.
func TestDecodeValidPlans(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(planBase))
	var b planBody
	if err := decode(r, "plan_create", "plan", &b); err != nil {
		t.Fatal(err)
	}
	if *b.Name != "nightly" || b.ProviderID != testUUID || len(b.Resources) != 2 ||
		b.Parameters["OS::Nova::Server"]["copies"] != float64(2) || b.Parameters["OS::Nova::Server#"+testUUID] != nil ||
		b.Resources[0].ExtraInfo["availability_zone"] != "az1" || b.Resources[1].Type != "OS::Cinder::Volume" {
		t.Errorf("decoded %+v", b)
	}
}
