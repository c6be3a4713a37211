package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
)

// TestProviders: provider list (filters, limit, marker, sort) and show.
func TestProviders(t *testing.T) {
	t.Parallel()
	s := start(t, realDir(t, t.TempDir()))
	c := newClient(s, "cli-providers")
	both := []string{dirProvider, noopProvider} // sorted by id
	c.reads(t, "providers", []readCase{
		{name: "list", legacy: []string{"provider-list"}, osc: []string{"provider", "list"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if !sameSet(ids(rs), both) {
					t.Fatalf("providers %v, want %v", ids(rs), both)
				}
				if r := find(rs, "id", noopProvider); r.get("name") != "No-Op Provider" {
					t.Errorf("noop provider listed as %v", r)
				}
				if r := find(rs, "id", dirProvider); r.get("name") != "Local Directory Provider" {
					t.Errorf("local directory provider listed as %v", r)
				}
			}},
		{name: "list-name", legacy: []string{"provider-list", "--name", "No-Op Provider"},
			osc: []string{"provider", "list", "--name", "No-Op Provider"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if got := ids(rs); len(got) != 1 || got[0] != noopProvider {
					t.Fatalf("--name: %v, want only %s", got, noopProvider)
				}
			}},
		{name: "list-description", legacy: []string{"provider-list", "--description", "Protects local directories into a bank on the local file system"},
			osc: []string{"provider", "list", "--description", "Protects local directories into a bank on the local file system"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if got := ids(rs); len(got) != 1 || got[0] != dirProvider {
					t.Fatalf("--description: %v, want only %s", got, dirProvider)
				}
			}},
		// karbor's deprecated --sort_key/--sort_dir are accepted (providers
		// are listed by id, spec §2.1).
		{name: "list-sort-key-dir", legacy: []string{"provider-list", "--sort_key", "id", "--sort_dir", "asc"},
			osc: []string{"provider", "list", "--sort", "id:asc"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if got := ids(rs); len(got) != 2 || got[0] != both[0] || got[1] != both[1] {
					t.Fatalf("id asc: %v, want %v", got, both)
				}
			}},
		{name: "list-limit", legacy: []string{"provider-list", "--sort", "id:asc", "--limit", "1"},
			osc: []string{"provider", "list", "--sort", "id:asc", "--limit", "1"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if got := ids(rs); len(got) != 1 || got[0] != both[0] {
					t.Fatalf("--limit 1: %v, want [%s]", got, both[0])
				}
			}},
		{name: "list-marker", legacy: []string{"provider-list", "--marker", both[0]},
			osc: []string{"provider", "list", "--marker", both[0]}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if got := ids(rs); len(got) != 1 || got[0] != both[1] {
					t.Fatalf("--marker %s: %v, want [%s]", both[0], got, both[1])
				}
			}},
		{name: "show-dir", legacy: []string{"provider-show", dirProvider}, osc: []string{"provider", "show", dirProvider},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("id") != dirProvider || r.get("name") != "Local Directory Provider" {
					t.Errorf("show: %v", r)
				}
				var schema map[string]map[string]struct {
					Properties map[string]any `json:"properties"`
				}
				r.jsonOf(t, "extended_info_schema", &schema)
				for kind, prop := range map[string]string{"options_schema": "exclude", "restore_schema": "restore_path"} {
					if _, ok := schema[kind][dirType].Properties[prop]; !ok {
						t.Errorf("extended_info_schema.%s[%s] has no %s: %v", kind, dirType, prop, schema[kind])
					}
				}
				if _, ok := schema["saved_info_schema"]; !ok {
					t.Errorf("extended_info_schema without saved_info_schema: %v", schema)
				}
			}},
		{name: "show-noop", legacy: []string{"provider-show", noopProvider}, osc: []string{"provider", "show", noopProvider},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("id") != noopProvider || r.get("name") != "No-Op Provider" {
					t.Errorf("show: %v", r)
				}
				var schema map[string]map[string]any
				r.jsonOf(t, "extended_info_schema", &schema)
				if _, ok := schema["options_schema"]["OS::Cinder::Volume"]; !ok {
					t.Errorf("noop options_schema: %v", schema["options_schema"])
				}
			}},
	})
}

// TestProtectables: protectable list and show, list-instances and
// show-instance of the local directory type, with and without parameters.
func TestProtectables(t *testing.T) {
	t.Parallel()
	root := realDir(t, t.TempDir())
	mkTree(t, root, map[string]string{"app/a.txt": "a", "app/sub/deep/er/x.txt": "x", "other/b.txt": "b"})
	s := start(t, root)
	c := newClient(s, "cli-protectables")
	app, sub := filepath.Join(root, "app"), filepath.Join(root, "app", "sub")
	deep := filepath.Join(root, "app", "sub", "deep", "er") // below the listed depth (2)
	types := []string{"OS::Cinder::Volume", "OS::Glance::Image", "OS::Keystone::Project", "OS::Kubernetes::Pod",
		"OS::Manila::Share", "OS::Neutron::Network", "OS::Nova::Server", "OS::Trove::Instance", dirType}
	checkDirs := func(t *testing.T, rs []row) {
		t.Helper()
		for _, d := range []string{root, app, sub, filepath.Join(root, "other")} {
			r := find(rs, "name", d)
			if r == nil {
				t.Errorf("%s not listed: %v", d, rs)
				continue
			}
			if r.get("id") != localdir.IDFor(d) || r.get("type") != dirType {
				t.Errorf("%s listed as %v, want id %s", d, r, localdir.IDFor(d))
			}
			if r.has("dependent resources") && r.get("dependent resources") != "[]" {
				t.Errorf("%s dependent resources %q", d, r.get("dependent resources"))
			}
		}
		if find(rs, "name", deep) != nil {
			t.Errorf("%s is deeper than instance_depth but listed", deep)
		}
	}
	c.reads(t, "protectables", []readCase{
		{name: "list", legacy: []string{"protectable-list"}, osc: []string{"protectable", "list"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				var got []string
				for _, r := range rs {
					got = append(got, r.get("protectable type"))
				}
				if !sameSet(got, types) {
					t.Errorf("protectable types %v, want %v", got, types)
				}
			}},
		{name: "show", legacy: []string{"protectable-show", dirType}, osc: []string{"protectable", "show", dirType},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("name") != dirType {
					t.Errorf("show: %v", r)
				}
				if dt := r.get("dependent_types"); dt != "[]" && dt != "" {
					t.Errorf("dependent_types %q, want none", dt)
				}
			}},
		{name: "show-server", legacy: []string{"protectable-show", "OS::Nova::Server"}, osc: []string{"protectable", "show", "OS::Nova::Server"},
			check: func(t *testing.T, v variant, rs []row) {
				if rs[0].get("name") != "OS::Nova::Server" {
					t.Errorf("show: %v", rs[0])
				}
			}},
		{name: "list-instances", legacy: []string{"protectable-list-instances", dirType},
			osc: []string{"protectable", "instance", "list", dirType}, list: true,
			check: func(t *testing.T, v variant, rs []row) { checkDirs(t, rs) }},
		// The client sends --parameters as a Python-literal dict (spec §1.3).
		{name: "list-instances-parameters", legacy: []string{"protectable-list-instances", dirType, "--limit", "100", "--parameters", "path=" + app},
			osc: []string{"protectable", "instance", "list", dirType, "--limit", "100", "--parameters", "path=" + app}, list: true,
			check: func(t *testing.T, v variant, rs []row) { checkDirs(t, rs) }},
		{name: "list-instances-volumes", legacy: []string{"protectable-list-instances", "OS::Cinder::Volume"},
			osc: []string{"protectable", "instance", "list", "OS::Cinder::Volume"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 0 {
					t.Errorf("volumes without a cloud: %v", rs)
				}
			}},
		{name: "show-instance", legacy: []string{"protectable-show-instance", dirType, localdir.IDFor(app)},
			osc: []string{"protectable", "instance", "show", dirType, localdir.IDFor(app)},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("id") != localdir.IDFor(app) || r.get("name") != app || r.get("type") != dirType {
					t.Errorf("show-instance: %v", r)
				}
				if r.get("dependent_resources") != "[]" {
					t.Errorf("dependent_resources %q", r.get("dependent_resources"))
				}
			}},
		// Deeper than listed: found through the plugin's "path" parameter.
		{name: "show-instance-path", legacy: []string{"protectable-show-instance", dirType, localdir.IDFor(deep), "--parameters", "path=" + deep},
			osc: []string{"protectable", "instance", "show", dirType, localdir.IDFor(deep), "--parameters", "path=" + deep},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("id") != localdir.IDFor(deep) || r.get("name") != deep {
					t.Errorf("show-instance with path: %v", r)
				}
			}},
	})
	// Errors users see. OSC's show looks the id up by name when GET fails,
	// so it reports its own message; the server's is on the wire.
	t.Run("errors", func(t *testing.T) {
		o := c.mustFail(t, legacy, "could not be found", "protectable-show-instance", dirType, localdir.IDFor(deep))
		if !strings.Contains(o.stderr, "(HTTP 404)") {
			t.Errorf("show-instance of an unlisted directory without path: want HTTP 404:\n%s", o.describe())
		}
		c.mustFail(t, osc, "could not be found. (HTTP 404)", "protectable", "instance", "show", dirType, localdir.IDFor(deep))
		c.mustFail(t, legacy, "Invalid protectable type provided", "protectable-show", "No::Such::Type")
		o = c.mustFail(t, osc, "No protectable with a name or ID of 'No::Such::Type' exists.", "protectable", "show", "No::Such::Type")
		if len(o.wire) == 0 || o.wire[0].Status != 400 {
			t.Errorf("protectable show of an unknown type: want a 400 first:\n%s", o.describe())
		}
	})
}
