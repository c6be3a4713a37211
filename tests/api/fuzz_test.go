package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fuzz targets send arbitrary bodies to every route that reads one and
// arbitrary query strings to every list route. Whatever comes in, an answer
// is JSON (Content-Type application/json), never a 5xx but 501 (routes still
// being written answer notImplemented), and when it is not a success it is
// Karbor's fault {"<faultName>": {"code": N, "message": "..."}}.
//
// In bodies, paths and queries {{plan}}, {{checkpoint}} and {{trigger}}
// stand for a plan, an available checkpoint and a trigger made for the fuzz
// target, {{service}} for the service that may be disabled and {{provider}}
// for the noop provider, so that inputs reach past the lookups.

// fuzzIDs are the objects the placeholders stand for.
type fuzzIDs struct{ plan, checkpoint, trigger, service string }

// fuzzSetup makes a noop plan, an available checkpoint of it and a trigger,
// and finds the service that may be disabled.
func (e *env) fuzzSetup(tb testing.TB) fuzzIDs {
	tb.Helper()
	ids := fuzzIDs{trigger: unknownID, service: "1"}
	post := func(path, body string) map[string]any {
		r := e.send(tb, "POST", path, "", []byte(body))
		if r.Code != http.StatusOK || json.Unmarshal(r.Raw, &r.Body) != nil {
			tb.Fatalf("%s: %d %s", r.What, r.Code, r.Raw)
		}
		for _, v := range r.Body {
			m, _ := v.(map[string]any)
			return m
		}
		return nil
	}
	body, _ := json.Marshal(planBody("fuzz", noopProvider, server(1)))
	ids.plan, _ = post("plans", string(body))["id"].(string)
	base := "providers/" + noopProvider + "/checkpoints"
	ids.checkpoint, _ = post(base, `{"checkpoint": {"plan_id": "`+ids.plan+`"}}`)["id"].(string)
	for _, rt := range bodyRoutes {
		if rt.method == "POST" && rt.path == "triggers" {
			ids.trigger, _ = post("triggers", rt.valid)["id"].(string)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r := e.send(tb, "GET", base+"/"+ids.checkpoint, "", nil)
		var b struct{ Checkpoint struct{ Status string } }
		_ = json.Unmarshal(r.Raw, &b)
		if b.Checkpoint.Status == "available" {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("checkpoint %s: %s", ids.checkpoint, r.Raw)
		}
	}
	var services struct {
		Services []struct {
			ID     any
			Binary string
		}
	}
	_ = json.Unmarshal(e.send(tb, "GET", "os-services", "", nil).Raw, &services)
	for _, s := range services.Services {
		if s.Binary == "pouch-tick" {
			ids.service = fmt.Sprint(s.ID)
		}
	}
	return ids
}

// fill replaces the placeholders of s.
func (ids fuzzIDs) fill(s string) string {
	return strings.NewReplacer("{{plan}}", ids.plan, "{{checkpoint}}", ids.checkpoint, "{{trigger}}", ids.trigger,
		"{{service}}", ids.service, "{{provider}}", noopProvider).Replace(s)
}

// send sends a request as the default token to /v1/<project>/path?query,
// the query as it is but for characters a URL cannot hold (escaped).
func (e *env) send(tb testing.TB, method, path, query string, body []byte) *response {
	tb.Helper()
	req, err := http.NewRequest(method, e.Srv.URL+"/v1/"+project+"/"+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.URL.RawQuery = urlSafe(query)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", token)
	resp, err := e.Srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, req.URL, err)
	}
	defer resp.Body.Close()
	r := &response{What: method + " " + req.URL.RequestURI(), Code: resp.StatusCode, Header: resp.Header}
	if r.Raw, err = io.ReadAll(resp.Body); err != nil {
		tb.Fatalf("%s: read body: %v", r.What, err)
	}
	return r
}

// urlSafe escapes the bytes of s that a URL's query cannot hold; it leaves
// %, so broken escapes (%zz) reach the server.
func urlSafe(s string) string {
	var sb strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/?%", c) >= 0 {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// checkAnswer applies the rules every answer follows.
func checkAnswer(t *testing.T, r *response) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: %d with Content-Type %q: %s", r.What, r.Code, ct, r.Raw)
	}
	if r.Code >= 500 && r.Code != http.StatusNotImplemented {
		t.Fatalf("%s: %d: %s", r.What, r.Code, r.Raw)
	}
	if len(r.Raw) == 0 {
		t.Fatalf("%s: %d with an empty body", r.What, r.Code)
	}
	if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
		t.Fatalf("%s: %d body is not a JSON object: %v: %q", r.What, r.Code, err, r.Raw)
	}
	if r.Code >= 300 {
		r.Fault(t, r.Code)
	}
}

// bodyRoutes are the routes that read a body, with a valid body.
var bodyRoutes = []struct{ method, path, valid string }{
	{"POST", "plans", `{"plan": {"name": "p", "description": "d", "provider_id": "{{provider}}",
		"parameters": {"OS::Nova::Server": {"delay_ms": 1, "x": "y", "b": true}, "OS::Nova::Server#{{plan}}": null},
		"resources": [{"id": "00000000-0000-4000-8000-000000000001", "type": "OS::Nova::Server", "name": "vm1", "extra_info": {"az": "nova"}}]}}`},
	{"PUT", "plans/{{plan}}", `{"plan": {"name": "renamed", "description": null,
		"resources": [{"id": "00000000-0000-4000-8000-000000000002", "type": "OS::Nova::Server", "name": "vm2"}]}}`},
	{"POST", "providers/{{provider}}/checkpoints", `{"checkpoint": {"plan_id": "{{plan}}", "extra-info": {"created_by": "fuzz", "n": 1}}}`},
	{"POST", "providers/{{provider}}/checkpoints/action", `{"copy": {"plan_id": "{{plan}}", "parameters": {}}}`},
	{"PUT", "providers/{{provider}}/checkpoints/{{checkpoint}}", `{"os-resetState": {"state": "available"}}`},
	{"POST", "restores", `{"restore": {"provider_id": "{{provider}}", "checkpoint_id": "{{checkpoint}}", "parameters": {},
		"restore_target": null, "restore_auth": {"type": "password", "username": "u", "password": "p"}}}`},
	{"POST", "verifications", `{"verification": {"provider_id": "{{provider}}", "checkpoint_id": "{{checkpoint}}", "parameters": {}}}`},
	{"POST", "triggers", `{"trigger_info": {"name": "t", "type": "time", "properties": {"format": "calendar",
		"pattern": "BEGIN:VEVENT\\nRRULE:FREQ=WEEKLY;INTERVAL=1;\\nEND:VEVENT", "start_time": "2017-06-01 10:00:00", "window": 1000}}}`},
	{"PUT", "triggers/{{trigger}}", `{"trigger_info": {"name": "t2", "properties": {"format": "crontab", "pattern": "0 2 * * *",
		"start_time": "2030-01-01 00:00:00", "end_time": "2031-01-01 00:00:00", "window": "900"}}}`},
	{"POST", "scheduled_operations", `{"scheduled_operation": {"name": "so", "description": null, "operation_type": "retention_protect",
		"trigger_id": "{{trigger}}", "operation_definition": {"provider_id": "{{provider}}", "plan_id": "{{plan}}", "max_backups": 2}}}`},
	{"PUT", "os-services/{{service}}", `{"status": "disabled", "disabled_reason": "fuzz"}`},
	{"PUT", "quotas/" + unknownID, `{"quota": {"plans": 100, "checkpoints": -1}}`},
	{"PUT", "quota_classes/default", `{"quota_class": {"plans": "50"}}`},
}

// oddBodies are sent to every body route.
var oddBodies = []string{
	``, ` `, `{`, `[]`, `null`, `"x"`, `{}`, `{} {}`, "\ufeff{}", "\xff",
	`{"plan": {"name": "\u0000\ud800é☃", "provider_id": "{{provider}}", "parameters": {}, "resources": [{"id": "", "type": "", "name": ""}]}}`,
	`{"plan": {"name": "p", "provider_id": "{{provider}}", "parameters": {"OS::Nova::Server": {"k": 1.0, "l": 1e999999, "m": 9223372036854775808}}, "resources": []}}`,
	`{"plan": {"name": "p", "provider_id": "{{provider}}", "parameters": {"Foo::Bar#x": {}, "OS::Nova::Server#{{plan}}": {"delay_ms": -9223372036854775808}}}}`,
	`{"plan": {"status": "started"}}`,
	`{"plan": {"resources": [{"id": "../../etc", "type": "Pouch::Local::Directory", "name": "/etc"}]}}`,
	`{"checkpoint": {"plan_id": "{{checkpoint}}", "extra_info": {"created_by": "` + strings.Repeat("x", 1000) + `"}}}`,
	`{"restore": {"provider_id": "{{provider}}", "checkpoint_id": "{{plan}}", "parameters": {"OS::Nova::Server": {"k": "v"}}}}`,
	`{"restore": {"provider_id": "` + dirProvider + `", "checkpoint_id": "{{checkpoint}}", "parameters": {"Pouch::Local::Directory": {"restore_path": "/"}}}}`,
	`{"trigger_info": {"name": "t", "type": "time", "properties": {"format": "crontab", "pattern": "* * * * *", "window": "99999999999999999999"}}}`,
	`{"quota": {"plans": "-2", "checkpoints": true, "unknown": "x"}}`,
	`{"quota": {"plans": 9223372036854775807}}`,
	`{"status": "enabled", "disabled_reason": "x"}`,
	`{"os-resetState": {"state": "error"}}`,
}

// FuzzAPIBodies sends body to the route-th route of bodyRoutes.
func FuzzAPIBodies(f *testing.F) {
	e := newEnv(f)
	ids := e.fuzzSetup(f)
	for i, rt := range bodyRoutes {
		f.Add(uint8(i), []byte(rt.valid))
		for _, b := range oddBodies {
			f.Add(uint8(i), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := bodyRoutes[int(route)%len(bodyRoutes)]
		r := e.send(t, rt.method, ids.fill(rt.path), "", []byte(ids.fill(string(body))))
		checkAnswer(t, r)
	})
}

// queryRoutes are the list routes.
var queryRoutes = []string{
	"plans", "restores", "operation_logs", "verifications", "triggers", "scheduled_operations", "providers",
	"providers/{{provider}}/checkpoints", "protectables/" + serverType + "/instances", "protectables/" + dirType + "/instances",
}

// fuzzQueries are sent to every list route.
var fuzzQueries = []string{
	"", "limit=1", "limit=0", "limit=-1", "limit=1.5", "limit=abc", "limit=1000000", "limit=99999999999999999999",
	"limit=1&limit=2", "limit=", "limit=%20", "marker={{plan}}", "marker={{checkpoint}}", "marker=garbage",
	"marker=" + unknownID, "marker=%00", "marker=" + strings.Repeat("m", 300), "marker={{plan}}&limit=1",
	"sort=name:desc,id:asc", "sort=created_at", "sort=status:asc", "sort=:", "sort=,", "sort=name:sideways",
	"sort=bogus:asc", "sort_key=name&sort_dir=asc", "sort=name&sort_key=id", "sort_dir=ASC", "sort_dir=",
	"offset=1", "offset=-1", "offset=x", "offset=99999999999999999999",
	"all_tenants=True", "all_tenants=1", "all_tenants=no", "all_tenants=maybe", "all_tenants=",
	"project_id=other&all_tenants=true", "project_id=" + project,
	"parameters={'a': 'b'}", "parameters={'path': '/'}", "parameters={'path': '../..'}", "parameters=[1,2",
	"parameters={'a': {'b': [1, 2.5, None, True]}}", "parameters=" + strings.Repeat("{'a':", 40) + "1" + strings.Repeat("}", 40),
	"parameters=None", "parameters=1e999", "parameters=\"x\"", "parameters={1: 2, None: True}", `parameters={'a': '\x00'}`,
	"name=é☃&status=available", "name=%ff%fe", "name=[1,2]", "name=('a','b')", "name=.*", "name=%", "description={}",
	"status=['available','error']", "status=available", "type=time", "operation_type=protect", "trigger_id={{plan}}",
	"plan_id={{plan}}&start_date=2017-01-01&end_date=2099-12-31", "start_date=2017-13-45", "start_date=x&end_date=y",
	"end_date=2017-01-01", "plan_id=x", "checkpoint_id={{checkpoint}}", "restore_id=1",
	"a=%zz", "a;b=c", "&&&==", "=x", "x", "?", "#", "a=b#c", "a=" + strings.Repeat("é", 100),
}

// FuzzAPIQuery sends GET queryRoutes[route]?rawQuery.
func FuzzAPIQuery(f *testing.F) {
	e := newEnv(f)
	ids := e.fuzzSetup(f)
	for i := range queryRoutes {
		for _, q := range fuzzQueries {
			f.Add(uint8(i), q)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, rawQuery string) {
		path := queryRoutes[int(route)%len(queryRoutes)]
		r := e.send(t, "GET", ids.fill(path), ids.fill(rawQuery), nil)
		checkAnswer(t, r)
	})
}
