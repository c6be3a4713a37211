package api_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/shared/model"
)

func TestPlanLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Parameter values come back as strings (spec §2.2, §12 item 11).
	body := planBody("nightly", noopProvider, server(1))
	body["plan"].(obj)["parameters"] = obj{serverType: obj{"backup_mode": "full", "copies": 2, "incremental": false},
		serverType + "#" + server(1).ID: obj{"backup_name": "x"}}
	r := e.do(t, "POST", "plans", body).OK(t)
	id := r.Str(t, "plan", "id")
	wantParams := map[string]any{serverType: map[string]any{"backup_mode": "full", "copies": "2", "incremental": "False"},
		serverType + "#" + server(1).ID: map[string]any{"backup_name": "x"}}
	checkPlan := func(r *response, name, status string, res ...model.Resource) {
		t.Helper()
		p, _ := r.Get(t, "plan").(map[string]any)
		if p["id"] != id || p["name"] != name || p["status"] != status || p["provider_id"] != noopProvider ||
			p["description"] != nil || !equalJSON(p["parameters"], wantParams) || !equalJSON(p["resources"], res) {
			t.Errorf("plan %s", r.Raw)
		}
		if _, ok := p["project_id"]; ok {
			t.Errorf("plan %s has a project_id", r.Raw)
		}
	}
	checkPlan(r, "nightly", "suspended", server(1))
	checkPlan(e.do(t, "GET", "plans/"+id, nil).OK(t), "nightly", "suspended", server(1))
	if got := e.do(t, "GET", "plans", nil).OK(t).IDs(t, "plans"); !slices.Equal(got, []string{id}) {
		t.Errorf("plans %v, want [%s]", got, id)
	}

	// Update the name, then the resources, then start it.
	checkPlan(e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"name": "weekly"}}).OK(t), "weekly", "suspended", server(1))
	withInfo := server(3)
	withInfo.ExtraInfo = map[string]any{"availability_zone": "az1"}
	checkPlan(e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"resources": []model.Resource{server(2), withInfo}}}).OK(t),
		"weekly", "suspended", server(2), withInfo)
	checkPlan(e.do(t, "GET", "plans/"+id, nil).OK(t), "weekly", "suspended", server(2), withInfo)
	for _, tc := range []struct {
		body obj
		want []string
	}{
		{obj{"plan": obj{}}, []string{"Missing updated parameters"}},
		{obj{"plan": obj{"name": "  "}}, []string{"name"}},
		{obj{"plan": obj{"description": strings.Repeat("d", 256)}}, []string{"description"}},
		{obj{"plan": obj{"provider_id": dirProvider}}, []string{"provider_id"}},
		{obj{"plan": obj{"parameters": obj{}}}, []string{"parameters"}},
		{obj{"plan": obj{"colour": "red"}}, []string{"colour"}},
		{obj{"plan": obj{"resources": []obj{{"id": "x", "type": serverType}}}}, []string{"resources[0]", "name"}},
		{obj{"plan": obj{"resources": []model.Resource{{ID: "x", Type: "Foo::Bar", Name: "x"}}}}, []string{"Foo::Bar"}},
		{obj{"plans": obj{"name": "x"}}, []string{`"plan"`}},
	} {
		e.do(t, "PUT", "plans/"+id, tc.body).Fault(t, http.StatusBadRequest, tc.want...)
	}
	checkPlan(e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"status": "started"}}).OK(t), "weekly", "started", server(2), withInfo)
	e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"name": "again"}}).Fault(t, http.StatusBadRequest, "suspended")
	e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"status": "suspended"}}).Fault(t, http.StatusBadRequest, "suspended")

	// Delete: empty 200, then gone.
	if r := e.do(t, "DELETE", "plans/"+id, nil).OK(t); len(r.Raw) != 0 {
		t.Errorf("delete body %q, want empty", r.Raw)
	}
	e.do(t, "GET", "plans/"+id, nil).Fault(t, http.StatusNotFound, id)
	e.do(t, "PUT", "plans/"+id, obj{"plan": obj{"name": "x"}}).Fault(t, http.StatusNotFound, id)
	e.do(t, "DELETE", "plans/"+id, nil).Fault(t, http.StatusNotFound, id)
	if got := e.do(t, "GET", "plans", nil).OK(t).IDs(t, "plans"); len(got) != 0 {
		t.Errorf("plans %v after delete, want none", got)
	}

	for _, m := range []string{"GET", "PUT", "DELETE"} {
		e.do(t, m, "plans/not-a-uuid", obj{"plan": obj{"name": "x"}}).Fault(t, http.StatusBadRequest, "plan", "not-a-uuid")
	}
}

func TestPlanListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string // oldest first
	for _, name := range []string{"p1", "p2", "p3"} {
		ids = append(ids, e.plan(t, name, noopProvider, server(1)))
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", newest},
		{"limit=2", newest[:2]},
		{"limit=2&marker=" + newest[1], newest[2:]},
		{"marker=" + newest[2], nil},
		{"sort_dir=asc", ids},
		{"sort_dir=asc&limit=1&marker=" + ids[0], ids[1:2]},
		{"sort=created_at:asc", ids},
		{"sort=created_at:desc", newest},
		{"sort_dir=desc", newest},
	} {
		if got := e.do(t, "GET", "plans?"+tc.query, nil).OK(t).IDs(t, "plans"); !slices.Equal(got, tc.want) {
			t.Errorf("plans?%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	e.do(t, "GET", "plans?sort_dir=sideways", nil).Fault(t, http.StatusBadRequest, "sideways")
	e.do(t, "GET", "plans?limit=0", nil).Fault(t, http.StatusBadRequest, "limit")
	e.do(t, "GET", "plans?limit=x", nil).Fault(t, http.StatusBadRequest, "limit")
	e.do(t, "GET", "plans?marker="+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)

	// Another project's plans are not listed without all_tenants. noauth
	// callers are admins, who see every project's plan by id (spec §2.2)
	// and every project's plans with all_tenants.
	const other = "carol:other"
	theirs := e.doAs(t, other, "POST", "plans", planBody("theirs", noopProvider, server(1))).OK(t).Str(t, "plan", "id")
	if got := e.doAs(t, other, "GET", "plans", nil).OK(t).IDs(t, "plans"); !slices.Equal(got, []string{theirs}) {
		t.Errorf("plans of other: %v, want [%s]", got, theirs)
	}
	if got := e.do(t, "GET", "plans", nil).OK(t).IDs(t, "plans"); slices.Contains(got, theirs) {
		t.Errorf("plans of %s %v list another project's plan", project, got)
	}
	if got := e.do(t, "GET", "plans?all_tenants=true", nil).OK(t).IDs(t, "plans"); !slices.Equal(got, append([]string{theirs}, newest...)) {
		t.Errorf("plans?all_tenants=true: %v", got)
	}
	e.do(t, "GET", "plans/"+theirs, nil).OK(t)
	e.do(t, "GET", "plans?marker="+theirs, nil).Fault(t, http.StatusNotFound, theirs)
}

func TestPlanCreateRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// with returns a valid body with field set (or removed when v is nil).
	with := func(field string, v any) obj {
		p := obj{"name": "p", "provider_id": noopProvider, "parameters": obj{}, "resources": []model.Resource{server(1)}}
		if v == nil {
			delete(p, field)
		} else {
			p[field] = v
		}
		return obj{"plan": p}
	}
	dir := func(path string) any { return []model.Resource{localdir.ResourceFor(path)} }
	onDir := func(field string, v any) obj {
		b := with(field, v)
		b["plan"].(obj)["provider_id"] = dirProvider
		return b
	}
	params := func(p obj) obj { return with("parameters", p) }
	for _, tc := range []struct {
		name string
		body any
		code int
		want []string
	}{
		{"not JSON", `{"plan": `, 400, nil},
		{"not an object", `[1]`, 400, nil},
		{"empty body", ``, 400, nil},
		{"wrong wrapper", obj{"plans": with("name", "p")["plan"]}, 400, []string{`"plan"`}},
		{"two wrappers", obj{"plan": with("name", "p")["plan"], "extra": 1}, 400, []string{`"plan"`}},
		{"unknown field", with("colour", "red"), 400, []string{"colour"}},
		{"status", with("status", "started"), 400, []string{"status"}},
		{"no name", with("name", nil), 400, []string{"name"}},
		{"blank name", with("name", " \t"), 400, []string{"name"}},
		{"long name", with("name", strings.Repeat("n", 256)), 400, []string{"name"}},
		{"name not a string", with("name", 3), 400, []string{"name"}},
		{"long description", with("description", strings.Repeat("d", 256)), 400, []string{"description"}},
		{"no parameters", with("parameters", nil), 400, []string{"parameters"}},
		{"parameters not an object", with("parameters", "x"), 400, []string{"parameters"}},
		{"bad parameters key", params(obj{"OS::Nova::Server/x": obj{}}), 400, []string{"OS::Nova::Server/x"}},
		{"parameters key of no type", params(obj{"Foo::Bar": obj{}}), 400, []string{"Foo::Bar"}},
		{"parameters key not type#uuid", params(obj{serverType + "#vm1": obj{}}), 400, []string{serverType + "#vm1"}},
		{"bad option name", params(obj{serverType: obj{"a/b": "x"}}), 400, []string{"a/b"}},
		{"nested option", params(obj{serverType: obj{"k": obj{"a": 1}}}), 400, []string{serverType + ".k"}},
		{"list option", params(obj{serverType: obj{"k": []int{1}}}), 400, []string{serverType + ".k"}},
		{"float option", params(obj{serverType: obj{"k": 1.5}}), 400, []string{serverType + ".k"}},
		{"null option", params(obj{serverType: obj{"k": nil}}), 400, []string{serverType + ".k"}},
		{"no provider_id", with("provider_id", nil), 400, []string{"provider_id"}},
		{"provider_id not a UUID", with("provider_id", "noop"), 400, []string{"provider_id", "noop"}},
		{"unknown provider", with("provider_id", unknownID), 400, []string{"provider could not be found"}},
		{"no resources", with("resources", nil), 400, []string{"resources"}},
		{"empty resources", with("resources", []any{}), 400, []string{"resources"}},
		{"resources not a list", with("resources", obj{}), 400, []string{"resources"}},
		{"resource without id", with("resources", []obj{{"type": serverType, "name": "a"}}), 400, []string{"resources[0]", "id"}},
		{"resource without type", with("resources", []obj{{"id": "a", "name": "a"}}), 400, []string{"resources[0]", "type"}},
		{"resource without name", with("resources", []obj{{"id": "a", "type": serverType, "name": "a"}, {"id": "a", "type": serverType}}), 400, []string{"resources[1]", "name"}},
		{"type noop does not handle", with("resources", dir(e.Root)), 400, []string{dirType}},
		{"type the directory provider does not handle", onDir("resources", []model.Resource{server(1)}), 400, []string{serverType}},
		{"directory outside the roots", onDir("resources", dir("/etc")), 400, []string{"/etc", "outside the allowed roots"}},
		{"directory of the wrong id", onDir("resources", []obj{{"id": unknownID, "type": dirType, "name": e.Root}}), 400, []string{unknownID}},
		{"body over 1 MiB", with("description", strings.Repeat("d", 1<<20)), 413, []string{"larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", "plans", tc.body).Fault(t, tc.code, tc.want...)
		})
	}
	if got := e.do(t, "GET", "plans", nil).OK(t).List(t, "plans"); len(got) != 0 {
		t.Errorf("refused plans were created: %v", got)
	}

	// The limits themselves are fine; a directory plan takes directories
	// inside the root, existing or not.
	long := e.do(t, "POST", "plans", with("name", strings.Repeat("n", 255))).OK(t)
	if long.Get(t, "plan", "description") != nil {
		t.Errorf("description %v, want null", long.Get(t, "plan", "description"))
	}
	e.do(t, "POST", "plans", with("description", strings.Repeat("d", 255))).OK(t)
	e.do(t, "POST", "plans", params(obj{serverType: nil})).OK(t)
	e.do(t, "POST", "plans", onDir("resources", dir(filepath.Join(e.Root, "not", "yet")))).OK(t)
}
