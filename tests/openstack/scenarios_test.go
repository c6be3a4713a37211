package openstack_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// instance is one row of "protectable instance list -f json", or what
// "protectable instance show -f json" prints; the client prints dependent
// resources as a JSON text.
type instance struct {
	ID         string `json:"Id"`
	ShownID    string `json:"id"`
	Dependents string `json:"dependent_resources"`
}

func (in instance) dependents(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(in.Dependents), &out); err != nil {
		t.Fatalf("dependent resources %q: %v", in.Dependents, err)
	}
	return out
}

// TestKarborProtectables are Karbor's fullstack PR3 (list instances), PR4
// (show an instance) and PR5 (a server's dependent resources: its image,
// then its attached volume), through python-karborclient's OSC plugin
// against Pouch behind the stack's Keystone.
func TestKarborProtectables(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	vol := f.volume(t.Name()+"-vol", 1, "")
	net, _ := f.network(t.Name()+"-net", "10.61.0.0/24")
	srv := f.server(t.Name()+"-srv", k.stack.Env["IMAGE_ID"], "", net.ID)
	f.attach(srv.ID, vol.ID)

	ids := func(t *testing.T, typ string) []string {
		var rows []instance
		k.osc(t, &rows, "protectable", "instance", "list", typ)
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	t.Run("PR3", func(t *testing.T) {
		if got := ids(t, "OS::Cinder::Volume"); !slices.Contains(got, vol.ID) {
			t.Errorf("volume %s not among the instances %v", vol.ID, got)
		}
		if got := ids(t, "OS::Nova::Server"); !slices.Contains(got, srv.ID) {
			t.Errorf("server %s not among the instances %v", srv.ID, got)
		}
		if got := ids(t, "OS::Neutron::Network"); len(got) == 0 || got[0] != k.stack.Env["DEMO_PROJECT_ID"] {
			t.Errorf("network instances %v, want the project %s first", got, k.stack.Env["DEMO_PROJECT_ID"])
		}
	})
	t.Run("PR4", func(t *testing.T) {
		for typ, id := range map[string]string{"OS::Cinder::Volume": vol.ID, "OS::Nova::Server": srv.ID} {
			var got instance
			k.osc(t, &got, "protectable", "instance", "show", typ, id)
			if got.ShownID != id {
				t.Errorf("%s %s shown as %v", typ, id, got)
			}
		}
	})
	t.Run("PR5", func(t *testing.T) {
		var got instance
		k.osc(t, &got, "protectable", "instance", "show", "OS::Nova::Server", srv.ID)
		deps := got.dependents(t)
		if len(deps) < 2 || deps[0]["type"] != "OS::Glance::Image" || deps[1]["type"] != "OS::Cinder::Volume" ||
			deps[1]["id"] != vol.ID || deps[0]["id"] != k.stack.Env["IMAGE_ID"] {
			t.Errorf("dependent resources %v: want the image %s, then the volume %s", deps, k.stack.Env["IMAGE_ID"], vol.ID)
		}
	})
}
