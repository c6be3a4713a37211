package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"
)

func restoreBody(providerID, checkpointID string) obj {
	return obj{"restore": obj{"provider_id": providerID, "checkpoint_id": checkpointID, "parameters": obj{}}}
}

func TestRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	planID := e.plan(t, "r", noopProvider, server(1))
	cp := e.checkpoint(t, noopProvider, planID)

	params := obj{serverType: obj{"k": "v"}}
	r := e.do(t, "POST", "restores", obj{"restore": obj{"provider_id": noopProvider, "checkpoint_id": cp,
		"parameters": params, "restore_target": "http://elsewhere/identity",
		"restore_auth": obj{"type": "password", "username": "u", "password": "secret"}}}).OK(t)
	id := r.Str(t, "restore", "id")
	rs, _ := r.Get(t, "restore").(map[string]any)
	if rs["status"] != "in_progress" || rs["provider_id"] != noopProvider || rs["checkpoint_id"] != cp ||
		rs["project_id"] != project || rs["restore_target"] != "http://elsewhere/identity" || !equalJSON(rs["parameters"], params) {
		t.Errorf("created restore: %s", r.Raw)
	}
	if _, ok := rs["restore_auth"]; ok {
		t.Errorf("restore_auth returned: %s", r.Raw)
	}
	r = e.waitStatus(t, "restores/"+id, "restore", "success")
	r.Get(t, "restore", "resources_status")
	r.Get(t, "restore", "resources_reason")

	// Failures to start are Karbor's 200 with status fail (spec §2.5).
	e.settle(t) // the restore holds the checkpoint until its bookkeeping ends
	e.do(t, "DELETE", "providers/"+noopProvider+"/checkpoints/"+cp, nil).OK(t)
	e.waitStatus(t, "providers/"+noopProvider+"/checkpoints/"+cp, "checkpoint", "deleted")
	var failed []string
	for name, body := range map[string]obj{
		"deleted checkpoint":             restoreBody(noopProvider, cp),
		"unknown checkpoint":             restoreBody(noopProvider, unknownID),
		"unknown provider":               restoreBody(unknownID, cp),
		"checkpoint of another provider": restoreBody(dirProvider, e.checkpoint(t, noopProvider, planID)),
	} {
		r := e.do(t, "POST", "restores", body).OK(t)
		if r.Str(t, "restore", "status") != "fail" {
			t.Errorf("restore on %s: %s", name, r.Raw)
		}
		fid := r.Str(t, "restore", "id")
		if st := e.do(t, "GET", "restores/"+fid, nil).OK(t).Str(t, "restore", "status"); st != "fail" {
			t.Errorf("restore on %s: shown %s", name, st)
		}
		failed = append(failed, fid)
	}

	all := e.do(t, "GET", "restores", nil).OK(t).IDs(t, "restores")
	if len(all) != 5 || all[4] != id || !slices.Equal(slices.Sorted(slices.Values(all[:4])), slices.Sorted(slices.Values(failed))) {
		t.Errorf("restores %v, want %v then %s", all, failed, id)
	}
	if got := e.do(t, "GET", "restores?limit=2&marker="+all[2], nil).OK(t).IDs(t, "restores"); !slices.Equal(got, all[3:]) {
		t.Errorf("restores page %v, want %v", got, all[3:])
	}
	if got := e.doAs(t, "carol:other", "GET", "restores", nil).OK(t).IDs(t, "restores"); len(got) != 0 {
		t.Errorf("restores of another project: %v", got)
	}

	with := func(field string, v any) obj {
		b := restoreBody(noopProvider, unknownID)
		if v == nil {
			delete(b["restore"].(obj), field)
		} else {
			b["restore"].(obj)[field] = v
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body any
		want []string
	}{
		{"not JSON", "restore", nil},
		{"wrong wrapper", obj{"restores": restoreBody(noopProvider, unknownID)["restore"]}, []string{`"restore"`}},
		{"unknown field", with("colour", "red"), []string{"colour"}},
		{"provider_id not a UUID", with("provider_id", "noop"), []string{"provider_id", "noop"}},
		{"no provider_id", with("provider_id", nil), []string{"provider_id"}},
		{"checkpoint_id not a UUID", with("checkpoint_id", "last"), []string{"checkpoint_id", "last"}},
		{"no checkpoint_id", with("checkpoint_id", nil), []string{"checkpoint_id"}},
		{"no parameters", with("parameters", nil), []string{"parameters"}},
		{"bad parameters key", with("parameters", obj{"a/b": obj{}}), []string{"a/b"}},
		{"nested parameter", with("parameters", obj{serverType: obj{"k": obj{}}}), []string{serverType + ".k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", "restores", tc.body).Fault(t, http.StatusBadRequest, tc.want...)
		})
	}
	e.do(t, "GET", "restores/not-a-uuid", nil).Fault(t, http.StatusBadRequest, "restore", "not-a-uuid")
	e.do(t, "GET", "restores/"+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
	e.do(t, "GET", "restores?limit=-1", nil).Fault(t, http.StatusBadRequest, "limit")
	e.do(t, "GET", "restores?marker="+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
	if n := len(e.do(t, "GET", "restores", nil).OK(t).List(t, "restores")); n != 5 {
		t.Errorf("%d restores after refusals, want 5", n)
	}
}

func TestOperationLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	planID := e.plan(t, "logs", noopProvider, server(1))
	cp := e.checkpoint(t, noopProvider, planID)
	restore := e.do(t, "POST", "restores", restoreBody(noopProvider, cp)).OK(t).Str(t, "restore", "id")
	e.waitStatus(t, "restores/"+restore, "restore", "success")
	e.settle(t) // a log is closed after its checkpoint or restore

	r := e.do(t, "GET", "operation_logs", nil).OK(t)
	logs := r.List(t, "operation_logs")
	if len(logs) != 2 {
		t.Fatalf("operation logs: %s", r.Raw)
	}
	karborTime := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$`)
	byType := map[string]map[string]any{}
	for _, l := range logs {
		m := l.(map[string]any)
		byType[m["operation_type"].(string)] = m
		for _, k := range []string{"started_at", "ended_at"} {
			if s, _ := m[k].(string); !karborTime.MatchString(s) {
				t.Errorf("%s %q, want YYYY-MM-DDTHH:MM:SS.ffffff", k, m[k])
			}
		}
		for _, k := range []string{"scheduled_operation_id", "error_info", "extra_info"} {
			if v, ok := m[k]; !ok || v != nil {
				t.Errorf("%s of %s log: %v, want null", k, m["operation_type"], v)
			}
		}
	}
	p, rs := byType["protect"], byType["restore"]
	if p == nil || p["status"] != "available" || p["checkpoint_id"] != cp || p["plan_id"] != planID ||
		p["provider_id"] != noopProvider || p["restore_id"] != nil {
		t.Errorf("protect log %v", p)
	}
	if rs == nil || rs["status"] != "success" || rs["checkpoint_id"] != cp || rs["restore_id"] != restore {
		t.Errorf("restore log %v", rs)
	}

	id, _ := p["id"].(string)
	if got := e.do(t, "GET", "operation_logs/"+id, nil).OK(t).Get(t, "operation_log"); !equalJSON(got, p) {
		t.Errorf("operation log %s: %v, want %v", id, got, p)
	}
	if got := e.do(t, "GET", "operation_logs?limit=1&sort_dir=asc", nil).OK(t).IDs(t, "operation_logs"); !slices.Equal(got, []string{id}) {
		t.Errorf("oldest operation log %v, want the protect %s", got, id)
	}
	if got := e.doAs(t, "carol:other", "GET", "operation_logs", nil).OK(t).IDs(t, "operation_logs"); len(got) != 0 {
		t.Errorf("operation logs of another project: %v", got)
	}
	e.do(t, "GET", "operation_logs/"+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
	e.do(t, "GET", "operation_logs/not-a-uuid", nil).Fault(t, http.StatusBadRequest, "operation_log", "not-a-uuid")
	e.do(t, "GET", "operation_logs?limit=none", nil).Fault(t, http.StatusBadRequest, "limit")

	// Deleting, verifying and copying are logged under their own types
	// (Karbor logged deletes as "protect").
	ver := e.do(t, "POST", "verifications", verificationBody(noopProvider, cp, nil)).OK(t).Str(t, "verification", "id")
	e.waitStatus(t, "verifications/"+ver, "verification", "success")
	e.do(t, "POST", "providers/"+noopProvider+"/checkpoints/action", obj{"copy": obj{"plan_id": planID, "parameters": obj{}}}).OK(t)
	e.settle(t)
	e.do(t, "DELETE", "providers/"+noopProvider+"/checkpoints/"+cp, nil).OK(t)
	e.settle(t)
	want := map[string]string{"protect": "available", "restore": "success", "verify": "success", "copy": "available", "delete": "deleted"}
	got := map[string]string{}
	for _, l := range e.do(t, "GET", "operation_logs", nil).OK(t).List(t, "operation_logs") {
		m := l.(map[string]any)
		got[m["operation_type"].(string)] = m["status"].(string)
	}
	if !equalJSON(got, want) {
		t.Errorf("operation log types and statuses %v, want %v", got, want)
	}
	if got := e.do(t, "GET", "operation_logs?status=deleted", nil).OK(t).List(t, "operation_logs"); len(got) != 1 {
		t.Errorf("operation_logs?status=deleted: %v", got)
	}
}
