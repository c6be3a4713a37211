package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// scheduledBody is a scheduled operation create body.
func scheduledBody(name, opType, triggerID string, def any) obj {
	return obj{"scheduled_operation": obj{"name": name, "operation_type": opType, "trigger_id": triggerID,
		"operation_definition": def}}
}

// scheduled creates a scheduled operation as tok and returns its id.
func (e *env) scheduled(t *testing.T, tok, name, opType, triggerID string, def obj) string {
	t.Helper()
	return e.doAs(t, tok, "POST", "scheduled_operations", scheduledBody(name, opType, triggerID, def)).OK(t).
		Str(t, "scheduled_operation", "id")
}

func TestScheduledOperationLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plan := e.plan(t, "p", noopProvider, server(1))
	trig := e.trigger(t, token, "weekly", calendar(weekly))

	// S1: create a protect operation; definition values come back strings.
	r := e.do(t, "POST", "scheduled_operations", scheduledBody("protect it", "protect", trig,
		obj{"plan_id": plan, "provider_id": noopProvider})).OK(t)
	id := r.Str(t, "scheduled_operation", "id")
	want := map[string]any{"id": id, "name": "protect it", "description": nil, "operation_type": "protect",
		"trigger_id": trig, "enabled": true, "operation_definition": map[string]any{"plan_id": plan, "provider_id": noopProvider}}
	if !equalJSON(r.Get(t, "scheduled_operation"), want) {
		t.Errorf("created %s, want %v", r.Raw, want)
	}
	if r := e.do(t, "GET", "scheduled_operations/"+id, nil).OK(t); !equalJSON(r.Get(t, "scheduled_operation"), want) {
		t.Errorf("GET %s, want %v", r.Raw, want)
	}

	// The openstack CLI sends the definition as the "k=v,k=v" text it was
	// given; it reads as the same definition.
	r = e.do(t, "POST", "scheduled_operations", scheduledBody("from osc", "protect", trig,
		"plan_id="+plan+", provider_id="+noopProvider)).OK(t)
	if got := r.Get(t, "scheduled_operation", "operation_definition"); !equalJSON(got, want["operation_definition"]) {
		t.Errorf("definition from text: %v", got)
	}
	e.do(t, "DELETE", "scheduled_operations/"+r.Str(t, "scheduled_operation", "id"), nil).OK(t)

	// retention_protect with Karbor's and Pouch's retention keys: integers
	// and booleans become strings, ids are normalised.
	undashed := strings.ReplaceAll(plan, "-", "")
	r = e.do(t, "POST", "scheduled_operations", obj{"scheduled_operation": obj{"name": "keep some", "description": "d",
		"operation_type": "retention_protect", "trigger_id": strings.ToUpper(trig), "operation_definition": obj{
			"plan_id": undashed, "provider_id": noopProvider, "max_backups": 3, "retention_duration": "14",
			"keep_daily": 7, "keep_weekly": "4", "keep_last": 0, "notify": true}}}).OK(t)
	kept := r.Str(t, "scheduled_operation", "id")
	wantDef := map[string]any{"plan_id": plan, "provider_id": noopProvider, "max_backups": "3", "retention_duration": "14",
		"keep_daily": "7", "keep_weekly": "4", "keep_last": "0", "notify": "True"}
	if !equalJSON(r.Get(t, "scheduled_operation", "operation_definition"), wantDef) ||
		r.Str(t, "scheduled_operation", "trigger_id") != trig || r.Str(t, "scheduled_operation", "description") != "d" {
		t.Errorf("retention operation %s, want definition %v on trigger %s", r.Raw, wantDef, trig)
	}

	// S3: both listed, flat, under "operations"; filters.
	second := e.trigger(t, token, "hourly", calendar(hourly))
	other := e.scheduled(t, token, "protect hourly", "protect", second, obj{"plan_id": plan, "provider_id": noopProvider})
	l := e.do(t, "GET", "scheduled_operations", nil).OK(t)
	if got := l.IDs(t, "operations"); !slices.Equal(got, []string{other, kept, id}) {
		t.Errorf("operations %v, want [%s %s %s]", got, other, kept, id)
	}
	if !equalJSON(l.Get(t, "operations", 2), want) {
		t.Errorf("listed %v, want %v", l.Get(t, "operations", 2), want)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"name=protect", []string{other, id}},
		{"name=%5Ekeep", []string{kept}},
		{"operation_type=retention_protect", []string{kept}},
		{"operation_type=protect", []string{other, id}},
		{"trigger_id=" + trig, []string{kept, id}},
		{"trigger_id=" + second, []string{other}},
		{"operation_definition=max_backups", []string{kept}},
		{"operation_definition=keep_daily", []string{kept}},
		{"operation_definition=" + plan, []string{other, kept, id}},
		{"sort_dir=asc&limit=2", []string{id, kept}},
		{"limit=1&marker=" + kept, []string{id}},
		{"operation_type=protect&limit=1", []string{other}},
	} {
		if got := e.do(t, "GET", "scheduled_operations?"+tc.query, nil).OK(t).IDs(t, "operations"); !slices.Equal(got, tc.want) {
			t.Errorf("scheduled_operations?%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	// A trigger in use cannot be deleted: 409 (Karbor: 424).
	e.do(t, "DELETE", "triggers/"+trig, nil).Fault(t, http.StatusConflict, "being used")
	e.do(t, "GET", "triggers/"+trig, nil).OK(t)

	// S5: delete, an empty 200, then gone; the trigger is free once its last
	// operation is.
	for _, op := range []string{id, kept} {
		if r := e.do(t, "DELETE", "scheduled_operations/"+op, nil).OK(t); len(r.Raw) != 0 {
			t.Errorf("delete body %q, want empty", r.Raw)
		}
		e.do(t, "GET", "scheduled_operations/"+op, nil).Fault(t, http.StatusNotFound, op)
		e.do(t, "DELETE", "scheduled_operations/"+op, nil).Fault(t, http.StatusNotFound, op)
	}
	if got := e.do(t, "GET", "scheduled_operations", nil).OK(t).IDs(t, "operations"); !slices.Equal(got, []string{other}) {
		t.Errorf("operations after delete %v, want [%s]", got, other)
	}
	e.do(t, "DELETE", "triggers/"+trig, nil).OK(t)
	e.do(t, "DELETE", "triggers/"+second, nil).Fault(t, http.StatusConflict, second)
	e.do(t, "GET", "scheduled_operations/nope", nil).Fault(t, http.StatusBadRequest, "nope")
	e.do(t, "DELETE", "scheduled_operations/nope", nil).Fault(t, http.StatusBadRequest, "nope")
}

func TestScheduledOperationRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plan := e.plan(t, "p", noopProvider, server(1))
	trig := e.trigger(t, token, "weekly", calendar(weekly))
	theirTrigger := e.trigger(t, "carol:other", "theirs", calendar(weekly))
	theirPlan := e.doAs(t, "carol:other", "POST", "plans", planBody("theirs", noopProvider, server(1))).OK(t).Str(t, "plan", "id")
	const unknownID = "9b2d8a8e-0d6c-4b3e-8f44-7d3f6b0f1c11"

	def := func(kv ...any) obj {
		d := obj{"plan_id": plan, "provider_id": noopProvider}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(d, kv[i].(string))
			} else {
				d[kv[i].(string)] = kv[i+1]
			}
		}
		return d
	}
	// with is a valid body with field set (or removed when v is nil).
	with := func(field string, v any) obj {
		b := obj{"name": "op", "operation_type": "protect", "trigger_id": trig, "operation_definition": def()}
		if v == nil {
			delete(b, field)
		} else {
			b[field] = v
		}
		return obj{"scheduled_operation": b}
	}
	for _, tc := range []struct {
		name string
		body any
		code int
		want []string
	}{
		{"no name", with("name", nil), 400, []string{"name"}},
		{"empty name", with("name", ""), 400, []string{"name"}},
		{"long description", with("description", strings.Repeat("d", 256)), 400, []string{"description"}},
		{"no operation type", with("operation_type", nil), 400, []string{"operation_type"}},
		{"unknown operation type", with("operation_type", "copy"), 400, []string{"operation_type", "copy"}},
		{"no trigger", with("trigger_id", nil), 400, []string{"trigger_id"}},
		{"trigger id not a UUID", with("trigger_id", "weekly"), 400, []string{"trigger_id", "weekly"}},
		{"unknown trigger", with("trigger_id", unknownID), 404, []string{"Trigger", unknownID}},
		{"trigger of another project", with("trigger_id", theirTrigger), 400, []string{"Invalid trigger id provided."}},
		{"no definition", with("operation_definition", nil), 400, []string{"operation_definition"}},
		{"empty definition", with("operation_definition", obj{}), 400, []string{"operation_definition"}},
		{"no plan", with("operation_definition", def("plan_id", nil)), 400, []string{"operation_definition.plan_id", "required"}},
		{"no provider", with("operation_definition", def("provider_id", nil)), 400, []string{"operation_definition.provider_id", "required"}},
		{"plan id not a UUID", with("operation_definition", def("plan_id", "p")), 400, []string{"operation_definition.plan_id", "UUID"}},
		{"provider id not a UUID", with("operation_definition", def("provider_id", 7)), 400, []string{"operation_definition.provider_id", "UUID"}},
		{"unknown plan", with("operation_definition", def("plan_id", unknownID)), 404, []string{"Plan", unknownID}},
		{"plan of another provider", with("operation_definition", def("provider_id", dirProvider)), 400,
			[]string{"operation_definition.provider_id", noopProvider, dirProvider}},
		{"plan of another project", with("operation_definition", def("plan_id", theirPlan)), 400, []string{"operation_definition.plan_id", theirPlan}},
		{"max_backups not an integer", with("operation_definition", def("max_backups", "many")), 400, []string{"operation_definition.max_backups", "integer"}},
		{"retention_duration not an integer", with("operation_definition", def("retention_duration", 1.5)), 400, []string{"operation_definition.retention_duration"}},
		{"GFS key on protect", with("operation_definition", def("keep_daily", 7)), 400, []string{"operation_definition.keep_daily", "retention_protect"}},
		{"definition value an object", with("operation_definition", def("extra", obj{"a": 1})), 400, []string{"operation_definition.extra"}},
		{"definition value a list", with("operation_definition", def("extra", []any{})), 400, []string{"operation_definition.extra"}},
		{"definition text without pairs", with("operation_definition", "plan_id"), 400, []string{"operation_definition"}},
		{"unknown field", with("colour", "red"), 400, []string{"colour"}},
		{"wrong wrapper", obj{"operation": obj{"name": "x"}}, 400, []string{`"scheduled_operation"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", "scheduled_operations", tc.body).Fault(t, tc.code, tc.want...)
		})
	}
	retention := func(kv ...any) obj {
		b := with("operation_definition", def(kv...))
		b["scheduled_operation"].(obj)["operation_type"] = "retention_protect"
		return b
	}
	e.do(t, "POST", "scheduled_operations", retention("keep_daily", -1)).Fault(t, 400, "operation_definition.keep_daily", "non-negative")
	e.do(t, "POST", "scheduled_operations", retention("keep_yearly", "1.5")).Fault(t, 400, "operation_definition.keep_yearly")
	if got := e.do(t, "GET", "scheduled_operations", nil).OK(t).IDs(t, "operations"); len(got) != 0 {
		t.Errorf("operations %v after refused creates, want none", got)
	}
	// Negative Karbor counts mean "unlimited" and are accepted.
	e.do(t, "POST", "scheduled_operations", retention("max_backups", -1, "retention_duration", "0")).OK(t)
}

// TestScheduledOperationOtherProject: another project's operation is 403 for
// a member; a member's all_tenants is dropped.
func TestScheduledOperationOtherProject(t *testing.T) {
	t.Parallel()
	e := newMemberEnv(t)
	const alice, carol = "alice:demo", "carol:other"
	plan := e.doAs(t, alice, "POST", "plans", planBody("p", noopProvider, server(1))).OK(t).Str(t, "plan", "id")
	trig := e.trigger(t, alice, "weekly", calendar(weekly))
	id := e.scheduled(t, alice, "mine", "protect", trig, obj{"plan_id": plan, "provider_id": noopProvider})

	e.doAs(t, carol, "GET", "scheduled_operations/"+id, nil).Fault(t, http.StatusForbidden, id)
	e.doAs(t, carol, "DELETE", "scheduled_operations/"+id, nil).Fault(t, http.StatusForbidden, id)
	if got := e.doAs(t, carol, "GET", "scheduled_operations?all_tenants=1", nil).OK(t).IDs(t, "operations"); len(got) != 0 {
		t.Errorf("carol's operations?all_tenants=1: %v, want none", got)
	}
	// carol may use neither alice's trigger nor alice's plan.
	theirs := e.trigger(t, carol, "theirs", calendar(weekly))
	e.doAs(t, carol, "POST", "scheduled_operations", scheduledBody("x", "protect", trig,
		obj{"plan_id": plan, "provider_id": noopProvider})).Fault(t, http.StatusBadRequest, "Invalid trigger id provided.")
	e.doAs(t, carol, "POST", "scheduled_operations", scheduledBody("x", "protect", theirs,
		obj{"plan_id": plan, "provider_id": noopProvider})).Fault(t, http.StatusBadRequest, "plan_id")

	r := e.doAs(t, alice, "GET", "scheduled_operations/"+id, nil).OK(t)
	if r.Str(t, "scheduled_operation", "name") != "mine" {
		t.Errorf("after refusals: %s", r.Raw)
	}
	e.doAs(t, alice, "DELETE", "scheduled_operations/"+id, nil).OK(t)
}
