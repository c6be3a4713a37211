package cli_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
)

type planResource struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	ExtraInfo map[string]any `json:"extra_info,omitempty"`
}

func dirResource(path string) planResource {
	return planResource{ID: localdir.IDFor(path), Type: dirType, Name: path}
}

// resourceArg is the CLI's resources argument: id=type=name,...
func resourceArg(paths ...string) string {
	var s string
	for i, p := range paths {
		if i > 0 {
			s += ","
		}
		s += localdir.IDFor(p) + "=" + dirType + "=" + p
	}
	return s
}

// checkPlan checks a plan as plan-create, -show and -update print it.
func checkPlan(t *testing.T, r row, name, status string, resources []planResource, params map[string]map[string]string) {
	t.Helper()
	if r.get("id") == "" || r.get("name") != name || r.get("status") != status || r.get("provider_id") != dirProvider {
		t.Errorf("plan %v, want name %q status %q provider %s", r, name, status, dirProvider)
	}
	var gotRes []planResource
	r.jsonOf(t, "resources", &gotRes)
	if !reflect.DeepEqual(gotRes, resources) {
		t.Errorf("resources %+v, want %+v", gotRes, resources)
	}
	if params != nil {
		var gotParams map[string]map[string]string
		r.jsonOf(t, "parameters", &gotParams)
		if !reflect.DeepEqual(gotParams, params) {
			t.Errorf("parameters %v, want %v", gotParams, params)
		}
	}
}

// TestPlans: plan-create with --parameters-json and --parameters (per type
// and per resource), plan-list with filters, sort, limit and marker,
// plan-show, plan-update of name, description, resources and status, and
// plan-delete by id and by name — each with both clients.
func TestPlans(t *testing.T) {
	t.Parallel()
	root := realDir(t, t.TempDir())
	mkTree(t, root, map[string]string{"app1/a.txt": "1", "app2/b.txt": "2"})
	app1, app2 := filepath.Join(root, "app1"), filepath.Join(root, "app2")
	id2 := localdir.IDFor(app2)
	s := start(t, root)
	c := newClient(s, "cli-plans")

	type planSpec struct {
		name      string
		v         variant
		args      []string
		resources []planResource
		params    map[string]map[string]string
	}
	specs := []planSpec{
		{"alpha", legacy, []string{"plan-create", "alpha", dirProvider, resourceArg(app1),
			"--parameters-json", `{"Pouch::Local::Directory": {"exclude": "*.tmp"}}`, "--description", "first plan"},
			[]planResource{dirResource(app1)}, map[string]map[string]string{dirType: {"exclude": "*.tmp"}}},
		{"beta", osc, []string{"plan", "create", "beta", dirProvider, resourceArg(app1),
			"--parameters", "resource_type=" + dirType + ",exclude=*.log"},
			[]planResource{dirResource(app1)}, map[string]map[string]string{dirType: {"exclude": "*.log"}}},
		{"gamma", legacy, []string{"plan-create", "gamma", dirProvider, resourceArg(app2),
			"--parameters", "resource_type=" + dirType + ",resource_id=" + id2 + ",exclude=cache"},
			[]planResource{dirResource(app2)}, map[string]map[string]string{dirType + "#" + id2: {"exclude": "cache"}}},
		{"delta", osc, []string{"plan", "create", "delta", dirProvider, resourceArg(app1, app2), "--parameters-json", `{}`},
			[]planResource{dirResource(app1), dirResource(app2)}, map[string]map[string]string{}},
	}
	planID := map[string]string{}
	t.Run("create", func(t *testing.T) {
		for _, p := range specs {
			args := p.args
			if p.v == osc {
				args = append(append([]string(nil), args...), "-f", "json")
			}
			r := c.must(t, p.v, args...).record(t)
			checkPlan(t, r, p.name, "suspended", p.resources, p.params)
			planID[p.name] = r.get("id")
		}
		if r := c.must(t, legacy, "plan-show", planID["alpha"]).record(t); r.get("description") != "first plan" {
			t.Errorf("alpha description %q", r.get("description"))
		}
		// A plan of another project, for the project filters.
		r := newClient(s, "cli-plans-other").karbor(t, "plan-create", "foreign", dirProvider, resourceArg(app2)).record(t)
		planID["foreign"] = r.get("id")
	})
	if len(planID) != len(specs)+1 {
		t.Fatalf("plans created: %v", planID)
	}
	all := []string{planID["alpha"], planID["beta"], planID["gamma"], planID["delta"]}
	byName := []string{planID["alpha"], planID["beta"], planID["delta"], planID["gamma"]}
	wantIDs := func(want []string, ordered bool) func(t *testing.T, v variant, rs []row) {
		return func(t *testing.T, v variant, rs []row) {
			got := ids(rs)
			if ordered && !slices.Equal(got, want) || !ordered && !sameSet(got, want) {
				t.Errorf("plans %v, want %v (ordered: %v)", got, want, ordered)
			}
		}
	}
	var firstPage []string
	c.reads(t, "plans", []readCase{
		{name: "list", legacy: []string{"plan-list"}, osc: []string{"plan", "list"}, list: true, check: wantIDs(all, false)},
		{name: "list-all-tenants", legacy: []string{"plan-list", "--all-tenants"}, osc: []string{"plan", "list", "--all-projects"},
			list: true, check: wantIDs(append(slices.Clone(all), planID["foreign"]), false)},
		{name: "list-tenant", legacy: []string{"plan-list", "--tenant", "cli-plans-other"}, osc: []string{"plan", "list", "--project", "cli-plans-other"},
			list: true, check: wantIDs([]string{planID["foreign"]}, false)},
		{name: "list-description", legacy: []string{"plan-list", "--description", "first plan"},
			osc: []string{"plan", "list", "--description", "first plan"}, list: true, check: wantIDs([]string{planID["alpha"]}, false)},
		{name: "list-name", legacy: []string{"plan-list", "--name", "alpha"}, osc: []string{"plan", "list", "--name", "alpha"},
			list: true, check: wantIDs([]string{planID["alpha"]}, false)},
		{name: "list-status", legacy: []string{"plan-list", "--status", "suspended"}, osc: []string{"plan", "list", "--status", "suspended"},
			list: true, check: wantIDs(all, false)},
		{name: "list-status-none", legacy: []string{"plan-list", "--status", "started"}, osc: []string{"plan", "list", "--status", "started"},
			list: true, check: wantIDs(nil, false)},
		{name: "list-sort-asc", legacy: []string{"plan-list", "--sort", "name:asc"}, osc: []string{"plan", "list", "--sort", "name:asc"},
			list: true, check: wantIDs(byName, true)},
		{name: "list-sort-desc", legacy: []string{"plan-list", "--sort", "name:desc"}, osc: []string{"plan", "list", "--sort", "name:desc"},
			list: true, check: func(t *testing.T, v variant, rs []row) {
				rev := slices.Clone(byName)
				slices.Reverse(rev)
				wantIDs(rev, true)(t, v, rs)
			}},
		{name: "list-sort-key-dir", legacy: []string{"plan-list", "--sort_key", "name", "--sort_dir", "asc"},
			osc: []string{"plan", "list", "--sort", "name:asc"}, list: true, check: wantIDs(byName, true)},
		{name: "list-limit", legacy: []string{"plan-list", "--sort", "name:asc", "--limit", "2"},
			osc: []string{"plan", "list", "--sort", "name:asc", "--limit", "2"}, list: true, check: wantIDs(byName[:2], true)},
		{name: "list-marker", legacy: []string{"plan-list", "--sort", "name:asc", "--limit", "2", "--marker", byName[1]},
			osc: []string{"plan", "list", "--sort", "name:asc", "--limit", "2", "--marker", byName[1]}, list: true,
			check: wantIDs(byName[2:], true)},
		{name: "list-limit-default-sort", legacy: []string{"plan-list", "--limit", "3"}, osc: []string{"plan", "list", "--limit", "3"},
			list: true, check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 3 {
					t.Errorf("--limit 3: %v", ids(rs))
				}
				if v == osc { // OSC keeps the server's order (created_at desc)
					firstPage = ids(rs)
				}
			}},
		{name: "show", legacy: []string{"plan-show", planID["gamma"]}, osc: []string{"plan", "show", planID["gamma"]},
			check: func(t *testing.T, v variant, rs []row) {
				checkPlan(t, rs[0], "gamma", "suspended", specs[2].resources, specs[2].params)
				if rs[0].get("id") != planID["gamma"] {
					t.Errorf("show id %s", rs[0].get("id"))
				}
			}},
		{name: "show-two-resources", legacy: []string{"plan-show", planID["delta"]}, osc: []string{"plan", "show", planID["delta"]},
			check: func(t *testing.T, v variant, rs []row) {
				checkPlan(t, rs[0], "delta", "suspended", specs[3].resources, specs[3].params)
			}},
	})
	t.Run("list-next-page", func(t *testing.T) {
		if len(firstPage) != 3 {
			t.Fatalf("no first page: %v", firstPage)
		}
		for _, v := range variants {
			rs := c.run(t, v, []string{"plan-list", "--marker", firstPage[2]}, []string{"plan", "list", "--marker", firstPage[2]}).rows(t)
			rest := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return contains(firstPage, id) })
			if !sameSet(ids(rs), rest) {
				t.Errorf("%s: page after %v: %v, want %v", v, firstPage, ids(rs), rest)
			}
		}
	})

	// karbor plan-update prints resources and parameters as Python reprs, so
	// they are checked with plan-show.
	t.Run("update-legacy", func(t *testing.T) {
		id := planID["alpha"]
		update := func(status string, resources []planResource, args ...string) row {
			t.Helper()
			r := c.karbor(t, append([]string{"plan-update", id}, args...)...).record(t)
			if r.get("id") != id || r.get("status") != status {
				t.Errorf("plan-update %v: %v", args, r)
			}
			checkPlan(t, c.karbor(t, "plan-show", id).record(t), r.get("name"), status, resources, specs[0].params)
			return r
		}
		if r := update("suspended", specs[0].resources, "--name", "alpha2"); r.get("name") != "alpha2" {
			t.Errorf("name %q", r.get("name"))
		}
		if r := update("suspended", specs[0].resources, "--description", "changed"); r.get("description") != "changed" {
			t.Errorf("description %q", r.get("description"))
		}
		update("suspended", []planResource{dirResource(app2)}, "--resources", resourceArg(app2))
		update("started", []planResource{dirResource(app2)}, "--status", "started")
		c.mustFail(t, legacy, "The plan can be only updated in suspended status", "plan-update", id, "--name", "again")
	})
	t.Run("update-osc", func(t *testing.T) {
		id := planID["beta"]
		r := c.openstack(t, "plan", "update", id, "--name", "beta2", "-f", "json").record(t)
		checkPlan(t, r, "beta2", "suspended", specs[1].resources, specs[1].params)
		r = c.openstack(t, "plan", "update", id, "--resources", resourceArg(app1, app2), "--description", "both", "-f", "json").record(t)
		checkPlan(t, r, "beta2", "suspended", []planResource{dirResource(app1), dirResource(app2)}, nil)
		if r.get("description") != "both" {
			t.Errorf("description %q", r.get("description"))
		}
		r = c.openstack(t, "plan", "update", id, "--status", "started", "-f", "json").record(t)
		checkPlan(t, r, "beta2", "started", []planResource{dirResource(app1), dirResource(app2)}, nil)
		c.mustFail(t, osc, "The plan can be only updated in suspended status", "plan", "update", id, "--name", "again")
	})
	c.reads(t, "plans-after-update", []readCase{
		{name: "list-started", legacy: []string{"plan-list", "--status", "started"}, osc: []string{"plan", "list", "--status", "started"},
			list: true, check: wantIDs([]string{planID["alpha"], planID["beta"]}, false)},
		{name: "list-suspended", legacy: []string{"plan-list", "--status", "suspended"}, osc: []string{"plan", "list", "--status", "suspended"},
			list: true, check: wantIDs([]string{planID["gamma"], planID["delta"]}, false)},
		{name: "list-name-renamed", legacy: []string{"plan-list", "--name", "beta2"}, osc: []string{"plan", "list", "--name", "beta2"},
			list: true, check: wantIDs([]string{planID["beta"]}, false)},
	})

	t.Run("delete", func(t *testing.T) {
		c.karbor(t, "plan-delete", planID["alpha"])
		c.openstack(t, "plan", "delete", planID["gamma"])
		c.karbor(t, "plan-delete", "delta") // by name
		c.openstack(t, "plan", "delete", "beta2")
		for _, v := range variants {
			if rs := c.run(t, v, []string{"plan-list"}, []string{"plan", "list"}).rows(t); len(rs) != 0 {
				t.Errorf("%s: plans left after delete: %v", v, ids(rs))
			}
		}
		c.mustFail(t, legacy, "Plan "+planID["alpha"]+" could not be found", "plan-show", planID["alpha"])
		c.mustFail(t, osc, "No plan with a name or ID of '"+planID["gamma"]+"' exists.", "plan", "show", planID["gamma"])
		// Both clients look a missing id up by name, then give up.
		c.mustFail(t, legacy, "No plan with a name or ID of '"+planID["alpha"]+"' exists.", "plan-delete", planID["alpha"])
		c.mustFail(t, osc, "No plan with a name or ID of '"+planID["alpha"]+"' exists.", "plan", "delete", planID["alpha"])
	})
}
