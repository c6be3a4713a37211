package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/shared/auth"
)

// Callers of the tests. Project "a" is the target's project unless a case
// says otherwise.
var (
	owner      = &auth.Identity{UserID: "u1", ProjectID: "a", Roles: []string{"member", "reader"}, IsAdminProject: false}
	stranger   = &auth.Identity{UserID: "u2", ProjectID: "b", Roles: []string{"member"}}
	admin      = &auth.Identity{UserID: "u3", ProjectID: "admin", Roles: []string{"admin"}, IsAdmin: true, IsAdminProject: true}
	roleAdmin  = &auth.Identity{UserID: "u4", ProjectID: "b", Roles: []string{"Admin"}, IsAdminProject: true} // admin role, is_admin not set
	scopedOnly = &auth.Identity{UserID: "u5", ProjectID: "b", Roles: []string{"admin"}, IsAdminProject: false}
)

var ownTarget = map[string]string{"project_id": "a", "user_id": "u1"}

func TestDefaults(t *testing.T) {
	e, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	adminAPI := map[string]bool{"quota:update": true, "quota:delete": true, "quota_class:update": true,
		"service:get_all": true, "service:update": true}
	names := Defaults()
	if len(names) != 4+len(adminAPI)+38 {
		t.Errorf("%d default rules, want %d", len(names), 4+len(adminAPI)+38)
	}
	for name := range names {
		if name == "context_is_admin" || name == "default" || name == "admin_or_owner" || name == "admin_api" {
			continue
		}
		want := map[*auth.Identity]bool{owner: !adminAPI[name], stranger: false, admin: true, roleAdmin: true, scopedOnly: false}
		for id, w := range want {
			if got := e.Allowed(name, id, ownTarget); got != w {
				t.Errorf("%s for %s of %s: %v, want %v", name, id.UserID, id.ProjectID, got, w)
			}
		}
	}
	// A rule that is not defined is checked as "default": admin or owner.
	if !e.Allowed("no:such_rule", owner, ownTarget) || e.Allowed("no:such_rule", stranger, ownTarget) {
		t.Error("an undefined rule is not checked as default")
	}
	if e.Allowed("plan:get", nil, ownTarget) {
		t.Error("a nil identity is allowed")
	}
	if text, ok := e.Rule("plan:create"); !ok || text != "rule:admin_or_owner" {
		t.Errorf("plan:create is %q %v", text, ok)
	}
}

func TestIsAdmin(t *testing.T) {
	e, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[*auth.Identity]bool{owner: false, admin: true, roleAdmin: true, scopedOnly: true, nil: false} {
		if got := e.IsAdmin(id); got != want {
			t.Errorf("IsAdmin(%v) = %v, want %v", id, got, want)
		}
	}
	e, err = Parse(map[string]string{"context_is_admin": "role:admin and is_admin_project:True"})
	if err != nil {
		t.Fatal(err)
	}
	if e.IsAdmin(scopedOnly) || !e.IsAdmin(admin) {
		t.Error("an overridden context_is_admin is not applied")
	}
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		id     *auth.Identity
		target map[string]string
		want   bool
	}{
		{"", stranger, nil, true},
		{"   ", stranger, nil, true},
		{"@", stranger, nil, true},
		{"!", admin, nil, false},
		{"role:admin", roleAdmin, nil, true}, // roles compare case-insensitively
		{"role:ADMIN", admin, nil, true},
		{"role:admin", owner, nil, false},
		{"role:%(role)s", owner, map[string]string{"role": "Member"}, true},
		{"role:%(role)s", owner, nil, false}, // a missing target key fails the check
		{"is_admin:True", admin, nil, true},
		{"is_admin:True", roleAdmin, nil, false},
		{"is_admin:False", owner, nil, true},
		{"is_admin:true", admin, nil, false}, // Python's str(True)
		{"is_admin_project:True", roleAdmin, nil, true},
		{"is_admin_project:True", owner, nil, false},
		{"project_id:%(project_id)s", owner, ownTarget, true},
		{"project_id:%(project_id)s", stranger, ownTarget, false},
		{"project_id:%(project_id)s", owner, map[string]string{}, false},
		{"user_id:%(user_id)s", owner, ownTarget, true},
		{"user_id:%(user_id)s", stranger, ownTarget, false},
		{"project_id:a", owner, nil, true},
		{"project_id:x-%(p)s-%(q)s", owner, map[string]string{"p": "", "q": ""}, false},
		{"project_id:%(p)s%(q)s", owner, map[string]string{"p": "", "q": "a"}, true},
		{"project_id:50%%", &auth.Identity{ProjectID: "50%"}, nil, true},
		{"roles:member", owner, nil, true}, // a list credential contains the value
		{"roles:admin", owner, nil, false},
		{"domain_id:x", owner, map[string]string{"domain_id": "x"}, false}, // no such credential
		{"'member':%(role)s", stranger, map[string]string{"role": "member"}, true},
		{`"member":%(role)s`, stranger, map[string]string{"role": "reader"}, false},
		{"True:%(enabled)s", stranger, map[string]string{"enabled": "True"}, true},
		{"1:%(n)s", stranger, map[string]string{"n": "1"}, true},
		{"not role:admin", owner, nil, true},
		{"not role:admin", admin, nil, false},
		{"not not role:admin", admin, nil, true},
		{"role:admin or role:member and role:nope", owner, nil, false}, // and binds tighter
		{"role:member or role:admin and role:nope", owner, nil, true},
		{"(role:member or role:admin) and role:nope", owner, nil, false},
		{"role:member AND role:reader", owner, nil, true},
		{"role:nope Or role:reader", owner, nil, true},
		{"not (role:member or role:admin)", owner, nil, false},
		{"not (role:nope or role:admin)", owner, nil, true},
		{"((role:member))", owner, nil, true},
		{"(project_id:%(project_id)s)", owner, ownTarget, true},
		{"(role:admin and is_admin_project:True) or project_id:%(project_id)s", stranger, ownTarget, false},
		{"(role:admin and is_admin_project:True) or project_id:%(project_id)s", roleAdmin, ownTarget, true},
		{"rule:admin_api", scopedOnly, nil, false},
		{"rule:admin_api", roleAdmin, nil, true},
		{"rule:admin_or_owner", owner, ownTarget, true},
		{"rule:default and not rule:context_is_admin", owner, ownTarget, true},
		{"rule:default and not rule:context_is_admin", admin, ownTarget, false},
	} {
		e, err := Parse(map[string]string{"test": tc.rule})
		if err != nil {
			t.Errorf("%q: %v", tc.rule, err)
			continue
		}
		if got := e.Allowed("test", tc.id, tc.target); got != tc.want {
			t.Errorf("%q for %+v on %v: %v, want %v", tc.rule, tc.id, tc.target, got, tc.want)
		}
	}
}

func TestRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		rules map[string]string
		want  []string
	}{
		{map[string]string{"x": "role:a and"}, []string{`rule "x"`, "ends"}},
		{map[string]string{"x": "and role:a"}, []string{`rule "x"`, `"and"`}},
		{map[string]string{"x": "not"}, []string{`rule "x"`}},
		{map[string]string{"x": "(role:a"}, []string{`rule "x"`, "missing )"}},
		{map[string]string{"x": "role:a)"}, []string{`rule "x"`, `")"`}},
		{map[string]string{"x": "role:a role:b"}, []string{`rule "x"`, `"role:b"`}},
		{map[string]string{"x": "admin"}, []string{`rule "x"`, `"admin"`}},
		{map[string]string{"x": ":admin"}, []string{`rule "x"`}},
		{map[string]string{"x": "http://example.com/check"}, []string{`rule "x"`, "not supported"}},
		{map[string]string{"x": "project_id:%(project_id)"}, []string{`rule "x"`, "%(key)"}},
		{map[string]string{"x": "project_id:50%"}, []string{`rule "x"`, "doubled"}},
		{map[string]string{"x": "rule:nope"}, []string{`rule "x"`, "rule:nope", "undefined"}},
		{map[string]string{"x": "rule:x"}, []string{`rule "x"`, "itself"}},
		{map[string]string{"x": "role:a or rule:y", "y": "not rule:x"}, []string{"rule:x", "itself"}},
		{map[string]string{"default": "rule:x", "x": "rule:admin_or_owner and rule:default"}, []string{"rule:default", "itself"}},
	} {
		_, err := Parse(tc.rules)
		if err == nil {
			t.Errorf("%v: no error", tc.rules)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not contain %q", tc.rules, err, w)
			}
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	type check struct {
		rule string
		id   *auth.Identity
		want bool
	}
	for _, tc := range []struct {
		name, file, text string
		checks           []check
		err              []string // parts of the error; nil: no error
	}{
		{name: "yaml", file: "policy.yaml",
			text: "# admins only\n\"plan:create\": \"role:admin\"\nplan:delete: \"!\"\nnew:rule: rule:admin_api\n",
			checks: []check{{"plan:create", owner, false}, {"plan:create", roleAdmin, true},
				{"plan:delete", admin, false}, {"plan:get", owner, true}, {"new:rule", owner, false}}},
		{name: "json", file: "policy.json", text: `{"plan:create": "role:admin", "plan:get": ""}`,
			checks: []check{{"plan:create", owner, false}, {"plan:get", stranger, true}, {"plan:update", stranger, false}}},
		{name: "json as yaml", file: "policy.conf", text: `{"plan:create": "role:admin"}`,
			checks: []check{{"plan:create", owner, false}}},
		{name: "null and list forms", file: "legacy.yaml",
			text: "plan:get:\nplan:create: []\nplan:update: [[\"role:member\", \"role:reader\"], \"role:admin\"]\nplan:delete: [[]]\n",
			checks: []check{{"plan:get", stranger, true}, {"plan:create", stranger, true},
				{"plan:update", owner, true}, {"plan:update", stranger, false}, {"plan:update", scopedOnly, true},
				{"plan:delete", admin, false}}},
		{name: "default overridden", file: "default.yaml", text: "default: '!'\n",
			checks: []check{{"no:such_rule", admin, false}, {"plan:get", owner, true}}},
		{name: "empty", file: "empty.yaml", text: "",
			checks: []check{{"plan:create", owner, true}}},
		{name: "bad yaml", file: "bad.yaml", text: "plan:create: [\n", err: []string{"bad.yaml"}},
		{name: "bad json", file: "bad.json", text: `{"plan:create": }`, err: []string{"bad.json"}},
		{name: "not a map", file: "list.yaml", text: "- role:admin\n", err: []string{"list.yaml", "not a map"}},
		{name: "bad rule", file: "rule.yaml", text: "plan:create: role:admin and\n",
			err: []string{"rule.yaml", `rule "plan:create"`}},
		{name: "bad value", file: "value.yaml", text: "plan:create: true\n",
			err: []string{"value.yaml", `rule "plan:create"`}},
		{name: "undefined reference", file: "ref.yaml", text: "plan:create: rule:admins\n",
			err: []string{"ref.yaml", `rule "plan:create"`, "rule:admins"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(write(tc.file, tc.text))
			if tc.err != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				if got := e.Allowed(c.rule, c.id, ownTarget); got != c.want {
					t.Errorf("%s for %s of %s: %v, want %v", c.rule, c.id.UserID, c.id.ProjectID, got, c.want)
				}
			}
		})
	}
	if _, err := New(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
