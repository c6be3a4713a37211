package api_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestListQueries covers spec §1.3 on plans: filters (exact, regex,
// Python-literal lists), sort, limit/marker/offset and next links.
func TestListQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	names := []string{"web-1", "web-2", "db-1", "db-2", "cache"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = e.plan(t, n, noopProvider, server(1))
	}
	e.do(t, "PUT", "plans/"+ids["db-1"], obj{"plan": obj{"status": "started"}}).OK(t)
	namesOf := func(r *response) []string {
		var out []string
		for _, p := range r.List(t, "plans") {
			out = append(out, p.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"cache", "db-2", "db-1", "web-2", "web-1"}}, // newest first
		{"sort_dir=asc", names},
		{"sort=name:asc", []string{"cache", "db-1", "db-2", "web-1", "web-2"}},
		{"sort=name", []string{"web-2", "web-1", "db-2", "db-1", "cache"}},
		{"sort=status:asc,name:desc", []string{"db-1", "web-2", "web-1", "db-2", "cache"}},
		{"name=web", []string{"web-2", "web-1"}}, // regex, as Karbor's REGEXP
		{"name=^db-[12]$&sort=name:asc", []string{"db-1", "db-2"}},
		{"status=started", []string{"db-1"}},
		{"status=" + url.QueryEscape("['started', 'nothing']"), []string{"db-1"}}, // Python list: IN
		{"name=nomatch", nil},
		{"limit=2", []string{"cache", "db-2"}},
		{"limit=2&offset=1", []string{"db-2", "db-1"}},
		{"limit=2&marker=" + ids["db-2"], []string{"db-1", "web-2"}},
		{"sort=name:asc&limit=2&marker=" + ids["db-2"], []string{"web-1", "web-2"}},
		{"status=suspended&sort=name:asc&offset=1&limit=2", []string{"db-2", "web-1"}},
		{"unknown_field=1", nil}, // admins keep every filter; no plan has it
	} {
		r := e.do(t, "GET", "plans?"+tc.query, nil).OK(t)
		if got := namesOf(r); !slices.Equal(got, tc.want) {
			t.Errorf("plans?%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	// A full page carries a next link with the same query and the marker.
	r := e.do(t, "GET", "plans?limit=2&sort=name:asc", nil).OK(t)
	links := r.List(t, "plans_links")
	href := links[0].(map[string]any)["href"].(string)
	u, err := url.Parse(href)
	if err != nil || links[0].(map[string]any)["rel"] != "next" || !strings.HasSuffix(u.Path, "/v1/"+project+"/plans") ||
		u.Query().Get("marker") != ids["db-1"] || u.Query().Get("sort") != "name:asc" {
		t.Errorf("next link %s", href)
	}
	next := e.do(t, "GET", "plans?"+u.RawQuery, nil).OK(t)
	if got := namesOf(next); !slices.Equal(got, []string{"db-2", "web-1"}) {
		t.Errorf("following the next link: %v", got)
	}
	if r := e.do(t, "GET", "plans?limit=10", nil).OK(t); r.Body["plans_links"] != nil {
		t.Errorf("a partial page has no next link: %s", r.Raw)
	}

	for _, tc := range []struct{ query, want string }{
		{"limit=0", "limit"},
		{"limit=x", "limit"},
		{"offset=-1", "offset"},
		{"sort_dir=up", "sort direction"},
		{"sort=name:sideways", "sort direction"},
		{"sort=name&sort_key=id", "sort"},
		{"sort=na%20me", "sort key"},
		{"all_tenants=maybe", "all_tenants"},
	} {
		e.do(t, "GET", "plans?"+tc.query, nil).Fault(t, 400, tc.want)
	}
	e.do(t, "GET", "plans?marker=6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11", nil).Fault(t, 404, "Marker")
	e.do(t, "GET", "plans?marker=6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11&name=db", nil).Fault(t, 404, "Marker")

	// The same machinery serves the other tables.
	e.do(t, "GET", "restores?status=success&offset=0", nil).OK(t)
	e.do(t, "GET", "operation_logs?plan_id="+ids["web-1"], nil).OK(t)
	if r := e.do(t, "GET", "providers?name=No-Op%20Protection%20Provider", nil).OK(t); len(r.List(t, "providers")) > 1 {
		t.Errorf("providers by name: %s", r.Raw)
	}
	e.do(t, "GET", "providers?offset=1", nil).Fault(t, 400, "offset")
}

// TestProjectIDs: a project id must be a plain name (it becomes a bank path
// segment): bad ones in a token are 401, in a checkpoint filter 400.
func TestProjectIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := "/v1/demo/providers/" + noopProvider + "/checkpoints?all_tenants=1&project_id="
	for _, bad := range []string{"%20", "a:b", "..", "../..", "demo%2F..%2Fdemo", "%C3%A9", "%2F"} {
		e.do(t, "GET", base+bad, nil).Fault(t, 400, "project_id")
	}
	e.do(t, "GET", base+"other", nil).OK(t)
	e.doAs(t, "alice:..", "GET", "/v1/../plans", nil).Fault(t, 401)
	e.doAs(t, "alice:a b", "GET", "/v1/a%20b/plans", nil).Fault(t, 401)
	e.do(t, "GET", "quotas/a%20b", nil).Fault(t, 400, "project id")
}
