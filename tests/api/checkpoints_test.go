package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
)

// jsonString checks that the value at path is a string holding JSON, and
// returns that JSON decoded.
func jsonString(t *testing.T, r *response, path ...any) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(r.Str(t, path...)), &v); err != nil {
		t.Fatalf("%s: %v is not a JSON string: %v", r.What, path, err)
	}
	return v
}

func TestCheckpointLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	planID := e.plan(t, "cp", noopProvider, server(1), server(2))
	base := "providers/" + noopProvider + "/checkpoints"

	// extra-info (with a hyphen, as python-karborclient sends it) is kept.
	r := e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": planID, "extra-info": obj{"created_by": "test", "n": 1}}}).OK(t)
	id := r.Str(t, "checkpoint", "id")
	if r.Str(t, "checkpoint", "status") != "protecting" || r.Str(t, "checkpoint", "project_id") != project ||
		r.Str(t, "checkpoint", "protection_plan", "id") != planID || r.Str(t, "checkpoint", "protection_plan", "name") != "cp" {
		t.Errorf("created checkpoint: %s", r.Raw)
	}
	if got := r.IDs(t, "checkpoint", "protection_plan", "resources"); !slices.Equal(got, []string{server(1).ID, server(2).ID}) {
		t.Errorf("protection_plan resources %v", got)
	}
	jsonString(t, r, "checkpoint", "resource_graph")
	if x := jsonString(t, r, "checkpoint", "extra_info"); !equalJSON(x, obj{"created_by": "test", "n": 1}) {
		t.Errorf("extra_info %v", x)
	}

	r = e.waitStatus(t, base+"/"+id, "checkpoint", "available")
	date := r.Str(t, "checkpoint", "created_at")
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(date) {
		t.Errorf("created_at %q, want YYYY-MM-DD", date)
	}
	if g := r.Str(t, "checkpoint", "resource_graph"); !strings.Contains(g, server(1).ID) || !strings.Contains(g, server(2).ID) {
		t.Errorf("resource_graph %s lacks the servers", g)
	}
	jsonString(t, r, "checkpoint", "resource_graph")
	if x := jsonString(t, r, "checkpoint", "extra_info"); !equalJSON(x, obj{"created_by": "test", "n": 1}) {
		t.Errorf("extra_info %v", x)
	}
	for _, s := range []string{server(1).StatusKey(), server(2).StatusKey()} {
		if st := r.Str(t, "checkpoint", "resources_status", s); st != "available" {
			t.Errorf("resources_status %s: %s", s, st)
		}
	}

	// extra_info with an underscore is accepted too; none gives Karbor's
	// default.
	id2 := e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": planID, "extra_info": obj{"created_by": "underscore"}}}).OK(t).Str(t, "checkpoint", "id")
	id3 := e.checkpoint(t, noopProvider, planID)
	r = e.waitStatus(t, base+"/"+id2, "checkpoint", "available")
	if x := jsonString(t, r, "checkpoint", "extra_info"); !equalJSON(x, obj{"created_by": "underscore"}) {
		t.Errorf("extra_info %v", x)
	}
	r = e.do(t, "GET", base+"/"+id3, nil).OK(t)
	if x := jsonString(t, r, "checkpoint", "extra_info"); !equalJSON(x, obj{"created_by": "manual"}) {
		t.Errorf("extra_info %v", x)
	}
	otherPlan := e.plan(t, "other", noopProvider, server(3))
	id4 := e.checkpoint(t, noopProvider, otherPlan)

	list := func(query string) []string {
		t.Helper()
		return e.do(t, "GET", base+"?"+query, nil).OK(t).IDs(t, "checkpoints")
	}
	sameSet := func(query string, got, want []string) {
		t.Helper()
		if !equalJSON(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("checkpoints?%s: %v, want %v in any order", query, got, want)
		}
	}
	mine := []string{id, id2, id3}
	for q, want := range map[string][]string{
		"":                     append(mine, id4),
		"plan_id=" + planID:    mine,
		"plan_id=" + otherPlan: {id4},
		"plan_id=" + unknownID: nil,
		"start_date=" + date:   append(mine, id4),
		"start_date=" + date + "&end_date=" + date:     append(mine, id4),
		"start_date=2000-01-01&end_date=2000-01-02":    nil,
		"end_date=2000-01-01":                          append(mine, id4), // end_date alone is ignored
		"plan_id=" + planID + "&start_date=" + date:    mine,
		"plan_id=" + planID + "&start_date=2999-01-01": nil,
	} {
		sameSet(q, list(q), want)
	}
	if got := e.doAs(t, "carol:other", "GET", base, nil).OK(t).IDs(t, "checkpoints"); len(got) != 0 {
		t.Errorf("checkpoints of another project: %v", got)
	}
	sameSet("all_tenants", list("all_tenants=1"), append(mine, id4))

	// Pages follow the listing's order; asc reverses it.
	full := list("plan_id=" + planID)
	if got := list("plan_id=" + planID + "&limit=1"); !slices.Equal(got, full[:1]) {
		t.Errorf("limit=1: %v, want %v", got, full[:1])
	}
	if got := list("plan_id=" + planID + "&marker=" + full[0]); !slices.Equal(got, full[1:]) {
		t.Errorf("marker: %v, want %v", got, full[1:])
	}
	asc := slices.Clone(full)
	slices.Reverse(asc)
	if got := list("plan_id=" + planID + "&sort_dir=asc"); !slices.Equal(got, asc) {
		t.Errorf("asc: %v, want %v", got, asc)
	}
	for _, q := range []string{"start_date=today", "start_date=2024-1-1", "start_date=2024-13-45", "end_date=2024-02-30&start_date=2024-01-01"} {
		name, _, _ := strings.Cut(strings.Split(q, "&")[0], "=")
		e.do(t, "GET", base+"?"+q, nil).Fault(t, http.StatusBadRequest, name)
	}
	e.do(t, "GET", base+"?plan_id=not-a-uuid", nil).Fault(t, http.StatusBadRequest, "plan_id")
	e.do(t, "GET", base+"?limit=0", nil).Fault(t, http.StatusBadRequest, "limit")
	e.do(t, "GET", base+"?sort_dir=up", nil).Fault(t, http.StatusBadRequest, "up")

	// Delete: {} at once, then deleted: gone from lists, still shown.
	if r := e.do(t, "DELETE", base+"/"+id, nil).OK(t); string(r.Raw) != "{}\n" && string(r.Raw) != "{}" {
		t.Errorf("delete body %q, want {}", r.Raw)
	}
	e.waitStatus(t, base+"/"+id, "checkpoint", "deleted")
	sameSet("", list(""), []string{id2, id3, id4})
	sameSet("plan_id", list("plan_id="+planID), []string{id2, id3})
	e.do(t, "DELETE", base+"/"+id, nil).Fault(t, http.StatusConflict, id)
}

func TestCheckpointRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	noopPlan := e.plan(t, "noop", noopProvider, server(1))
	dirPlan := e.plan(t, "dir", dirProvider, localdir.ResourceFor(e.Root))
	base := "providers/" + noopProvider + "/checkpoints"

	for _, tc := range []struct {
		name, path string
		body       any
		code       int
		want       []string
	}{
		{"not JSON", base, "{", 400, nil},
		{"wrong wrapper", base, obj{"checkpoints": obj{"plan_id": noopPlan}}, 400, []string{`"checkpoint"`}},
		{"unknown field", base, obj{"checkpoint": obj{"plan_id": noopPlan, "colour": "red"}}, 400, []string{"colour"}},
		{"no plan_id", base, obj{"checkpoint": obj{}}, 400, []string{"plan_id"}},
		{"plan_id not a UUID", base, obj{"checkpoint": obj{"plan_id": "nightly"}}, 400, []string{"plan_id", "nightly"}},
		{"unknown plan", base, obj{"checkpoint": obj{"plan_id": unknownID}}, 404, []string{unknownID}},
		{"plan of another provider", base, obj{"checkpoint": obj{"plan_id": dirPlan}}, 400, []string{dirPlan, dirProvider}},
		{"provider not a UUID", "providers/noop/checkpoints", obj{"checkpoint": obj{"plan_id": noopPlan}}, 400, []string{"provider", "noop"}},
		{"unknown provider", "providers/" + unknownID + "/checkpoints", obj{"checkpoint": obj{"plan_id": noopPlan}}, 404, []string{unknownID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", tc.path, tc.body).Fault(t, tc.code, tc.want...)
		})
	}
	if got := e.do(t, "GET", base, nil).OK(t).List(t, "checkpoints"); len(got) != 0 {
		t.Errorf("refused checkpoints were created: %v", got)
	}

	id := e.checkpoint(t, noopProvider, noopPlan)
	for _, m := range []string{"GET", "DELETE"} {
		e.do(t, m, base+"/not-a-uuid", nil).Fault(t, http.StatusBadRequest, "checkpoint", "not-a-uuid")
		e.do(t, m, base+"/"+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
		e.do(t, m, "providers/noop/checkpoints/"+id, nil).Fault(t, http.StatusBadRequest, "provider")
		e.do(t, m, "providers/"+unknownID+"/checkpoints/"+id, nil).Fault(t, http.StatusNotFound, unknownID)
		// Both default providers share a bank; a checkpoint is only its own
		// provider's.
		e.do(t, m, "providers/"+dirProvider+"/checkpoints/"+id, nil).Fault(t, http.StatusNotFound, id)
	}
	e.do(t, "GET", "providers/"+unknownID+"/checkpoints", nil).Fault(t, http.StatusNotFound, unknownID)
	e.do(t, "GET", "providers/noop/checkpoints", nil).Fault(t, http.StatusBadRequest, "provider")

	// A checkpoint still protecting cannot be deleted: noop's delay_ms
	// keeps every hook busy for a while.
	slow := planBody("slow", noopProvider, server(1))
	slow["plan"].(obj)["parameters"] = obj{serverType: obj{"delay_ms": 200}}
	slowPlan := e.do(t, "POST", "plans", slow).OK(t).Str(t, "plan", "id")
	cp := e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": slowPlan}}).OK(t).Str(t, "checkpoint", "id")
	e.do(t, "DELETE", base+"/"+cp, nil).Fault(t, http.StatusConflict, "protecting")
	e.waitStatus(t, base+"/"+cp, "checkpoint", "available")
}
