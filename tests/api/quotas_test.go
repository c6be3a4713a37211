package api_test

import (
	"fmt"
	"testing"
)

func TestQuotas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := "quotas/" + project
	r := e.do(t, "GET", q, nil).OK(t)
	if !equalJSON(r.Body, obj{"quota": obj{"plans": 50, "checkpoints": -1, "id": project}}) {
		t.Errorf("default quota: %s", r.Raw)
	}
	if r := e.do(t, "GET", q+"/defaults", nil).OK(t); !equalJSON(r.Body, obj{"quota": obj{"plans": 50, "checkpoints": -1, "id": project}}) {
		t.Errorf("defaults: %s", r.Raw)
	}

	// Two plans at most: the third is 413 overLimit with Retry-After.
	r = e.do(t, "PUT", q, obj{"quota": obj{"plans": 2, "unknown": 7}}).OK(t)
	if !equalJSON(r.Body, obj{"quota": obj{"plans": 2, "checkpoints": -1}}) {
		t.Errorf("update: %s", r.Raw)
	}
	p1 := e.plan(t, "q1", noopProvider, server(1))
	e.plan(t, "q2", noopProvider, server(1))
	r = e.do(t, "POST", "plans", planBody("q3", noopProvider, server(1)))
	r.Fault(t, 413, "Maximum number of plans allowed (2) exceeded")
	if r.Header.Get("Retry-After") != "0" || r.Get(t, "overLimit", "retryAfter") != "0" {
		t.Errorf("413 without retryAfter: %v %s", r.Header, r.Raw)
	}
	detail := e.do(t, "GET", q+"/detail", nil).OK(t)
	if !equalJSON(detail.Get(t, "quota", "plans"), obj{"limit": 2, "in_use": 2, "reserved": 0}) {
		t.Errorf("detail: %s", detail.Raw)
	}
	e.do(t, "DELETE", "plans/"+p1, nil).OK(t)
	e.plan(t, "q3", noopProvider, server(1))

	// One checkpoint at most; a deleted one gives its unit back.
	e.do(t, "PUT", q, obj{"quota": obj{"plans": 10, "checkpoints": "1"}}).OK(t)
	plan := e.plan(t, "cq", noopProvider, server(2))
	cp := e.checkpoint(t, noopProvider, plan)
	base := "providers/" + noopProvider + "/checkpoints"
	e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": plan}}).Fault(t, 413, "checkpoints")
	e.do(t, "DELETE", base+"/"+cp, nil).OK(t)
	e.checkpoint(t, noopProvider, plan)

	for _, bad := range []obj{{"plans": -2}, {"plans": "many"}, {"plans": 1.5}} {
		e.do(t, "PUT", q, obj{"quota": bad}).Fault(t, 400, "plans")
	}
	e.do(t, "GET", "quotas/bad%20id", nil).Fault(t, 400)

	e.do(t, "DELETE", q, nil).OK(t)
	if r := e.do(t, "GET", q, nil).OK(t); r.Get(t, "quota", "plans") != float64(50) {
		t.Errorf("after delete: %s", r.Raw)
	}

	// Classes: "default" applies to projects without overrides.
	if r := e.do(t, "GET", "quota_classes/default", nil).OK(t); !equalJSON(r.Body, obj{"quota_class": obj{"plans": 50, "checkpoints": -1, "id": "default"}}) {
		t.Errorf("class: %s", r.Raw)
	}
	r = e.do(t, "PUT", "quota_classes/default", obj{"quota_class": obj{"plans": 7}}).OK(t)
	if !equalJSON(r.Body, obj{"quota_class": obj{"plans": 7, "checkpoints": -1}}) {
		t.Errorf("class update: %s", r.Raw)
	}
	if r := e.do(t, "GET", q, nil).OK(t); r.Get(t, "quota", "plans") != float64(7) {
		t.Errorf("project quota under class default 7: %s", r.Raw)
	}
	e.do(t, "PUT", "quota_classes/default", obj{"quota_class": obj{"plans": true, "x": "ignored"}}).OK(t)
	e.do(t, "PUT", "quota_classes/default", obj{"quota": obj{"plans": 1}}).Fault(t, 400)
}

func TestServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.App.BeatTick(t.Context())
	e.checkpoint(t, noopProvider, e.plan(t, "s", noopProvider, server(1)))
	r := e.do(t, "GET", "os-services", nil).OK(t)
	ids := map[string]float64{}
	for _, s := range r.List(t, "services") {
		m := s.(map[string]any)
		ids[m["binary"].(string)] = m["id"].(float64)
		if m["status"] != "enabled" || m["state"] != "up" || m["host"] == "" || m["updated_at"] == nil {
			t.Errorf("service %v", m)
		}
	}
	for _, b := range []string{"pouch-api", "pouch-hook", "pouch-tick"} {
		if ids[b] == 0 {
			t.Fatalf("no %s in %s", b, r.Raw)
		}
	}
	if got := e.do(t, "GET", "os-services?binary=pouch-tick", nil).OK(t).List(t, "services"); len(got) != 1 {
		t.Errorf("filter by binary: %v", got)
	}
	tick := fmt.Sprint(ids["pouch-tick"])
	r = e.do(t, "PUT", "os-services/"+tick, obj{"status": "disabled", "disabled_reason": "maintenance"}).OK(t)
	if r.Str(t, "service", "status") != "disabled" || r.Str(t, "service", "disabled_reason") != "maintenance" {
		t.Errorf("disable: %s", r.Raw)
	}
	if off, err := e.App.API.Services.Disabled(t.Context(), "pouch-tick"); err != nil || !off {
		t.Errorf("tick disabled: %v %v", off, err)
	}
	r = e.do(t, "PUT", "os-services/"+tick, obj{"status": "enabled"}).OK(t)
	if r.Str(t, "service", "status") != "enabled" {
		t.Errorf("enable: %s", r.Raw)
	}
	e.do(t, "PUT", "os-services/"+tick, obj{"status": "enabled", "disabled_reason": "x"}).Fault(t, 400, "disabled_reason")
	e.do(t, "PUT", "os-services/"+fmt.Sprint(ids["pouch-api"]), obj{"status": "disabled"}).Fault(t, 400, "pouch-tick")
	e.do(t, "PUT", "os-services/999", obj{"status": "disabled"}).Fault(t, 404)
	e.do(t, "PUT", "os-services/x", obj{"status": "disabled"}).Fault(t, 400)
	e.do(t, "PUT", "os-services/"+tick, obj{"status": "paused"}).Fault(t, 400, "status")
}
