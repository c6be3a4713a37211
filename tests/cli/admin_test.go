package cli_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestServices: service list (filters), enable and disable (with and
// without a reason) with both clients. Pouch lists its functions; only the
// operation engine (pouch-tick) may be disabled, as only Karbor's
// karbor-operationengine could.
func TestServices(t *testing.T) {
	t.Parallel()
	s := start(t, realDir(t, t.TempDir()))
	c := newClient(s, "cli-services")
	// The tick function beats once a minute; run it now so its service row
	// exists (the api row appears with the first request).
	resp, err := http.Post(s.direct+"/function/tick", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tick: %d", resp.StatusCode)
	}
	rs := c.karbor(t, "service-list").rows(t)
	tick, api := find(rs, "binary", "pouch-tick"), find(rs, "binary", "pouch-api")
	if tick == nil || api == nil {
		t.Fatalf("services %v, want pouch-api and pouch-tick", rs)
	}
	tickID, apiID, host := tick.get("id"), api.get("id"), tick.get("host")
	c.reads(t, "services", []readCase{
		{name: "service-list", legacy: []string{"service-list"}, osc: []string{"service", "list"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				for _, b := range []string{"pouch-api", "pouch-tick"} {
					r := find(rs, "binary", b)
					if r == nil || r.get("status") != "enabled" || r.get("state") != "up" || r.get("host") != host ||
						r.get("updated_at") == "" || r.get("disabled reason") != "" {
						t.Errorf("%s: %v", b, r)
					}
				}
			}},
		{name: "service-list-binary", legacy: []string{"service-list", "--binary", "pouch-tick"}, osc: []string{"service", "list", "--binary", "pouch-tick"},
			list: true, check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 1 || rs[0].get("id") != tickID {
					t.Errorf("--binary pouch-tick: %v", rs)
				}
			}},
		{name: "service-list-host", legacy: []string{"service-list", "--host", host}, osc: []string{"service", "list", "--host", host},
			list: true, check: func(t *testing.T, v variant, rs []row) {
				if find(rs, "id", tickID) == nil || find(rs, "id", apiID) == nil {
					t.Errorf("--host %s: %v", host, rs)
				}
			}},
		{name: "service-list-other-host", legacy: []string{"service-list", "--host", "no-such-host"},
			osc: []string{"service", "list", "--host", "no-such-host"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 0 {
					t.Errorf("--host no-such-host: %v", rs)
				}
			}},
	})
	// karbor prints the service as a one-row list, openstack as a record.
	check := func(t *testing.T, o *out, status, reason string) {
		t.Helper()
		var r row
		if o.v == legacy {
			rs := o.rows(t)
			if len(rs) != 1 {
				t.Fatalf("not one service: %v", rs)
			}
			r = rs[0]
		} else {
			r = o.record(t)
		}
		if r.get("id") != tickID || r.get("binary") != "pouch-tick" || r.get("status") != status || r.get("disabled reason") != reason {
			t.Errorf("service %v, want %s with reason %q", r, status, reason)
		}
		listed := find(c.openstack(t, "service", "list", "-f", "json").rows(t), "id", tickID)
		if listed.get("status") != status || listed.get("disabled reason") != reason {
			t.Errorf("listed %v, want %s with reason %q", listed, status, reason)
		}
	}
	t.Run("enable-disable", func(t *testing.T) {
		check(t, c.karbor(t, "service-disable", tickID, "--reason", "maintenance"), "disabled", "maintenance")
		check(t, c.openstack(t, "service", "enable", tickID, "-f", "json"), "enabled", "")
		check(t, c.openstack(t, "service", "disable", tickID, "--reason", "upgrade", "-f", "json"), "disabled", "upgrade")
		check(t, c.karbor(t, "service-enable", tickID), "enabled", "")
		check(t, c.karbor(t, "service-disable", tickID), "disabled", "")
		check(t, c.openstack(t, "service", "enable", tickID, "-f", "json"), "enabled", "")
	})
	t.Run("refused", func(t *testing.T) {
		c.mustFail(t, legacy, "Only the pouch-tick service can be updated, not pouch-api. (HTTP 400)", "service-disable", apiID)
		c.mustFail(t, osc, "Only the pouch-tick service can be updated, not pouch-api. (HTTP 400)", "service", "disable", apiID)
		c.mustFail(t, legacy, "(HTTP 404)", "service-enable", "999")
		c.mustFail(t, osc, "(HTTP 404)", "service", "enable", "999")
	})
}

// TestQuotas: quota-show (plain and --detail), quota-defaults, quota-update
// and its effect on plan-create, quota-class-show and quota-class-update,
// with both clients. Quota project ids must be uuid-like, so the project is
// a UUID; without --tenant the clients cannot tell the project (spec §10.3).
func TestQuotas(t *testing.T) {
	t.Parallel()
	root := realDir(t, t.TempDir())
	mkTree(t, root, map[string]string{"app/a.txt": "a"})
	app := filepath.Join(root, "app")
	s := start(t, root)
	project := strings.ReplaceAll(uuid.NewString(), "-", "")
	c := newClient(s, project)
	quota := func(plans, checkpoints string) func(t *testing.T, v variant, rs []row) {
		return func(t *testing.T, v variant, rs []row) {
			r := rs[0]
			if r.get("plans") != plans || r.get("checkpoints") != checkpoints || r.get("id") != project {
				t.Errorf("quota %v, want plans %s checkpoints %s id %s", r, plans, checkpoints, project)
			}
		}
	}
	detail := func(limit, inUse int) string {
		return fmt.Sprintf("in_use = %d\nlimit = %d\nreserved = 0", inUse, limit)
	}
	c.reads(t, "quotas", []readCase{
		{name: "quota-show", legacy: []string{"quota-show", "--tenant", project}, osc: []string{"quotas", "show", "--tenant", project},
			check: quota("50", "-1")},
		{name: "quota-show-detail", legacy: []string{"quota-show", "--tenant", project, "--detail"},
			osc: []string{"quotas", "show", "--tenant", project, "--detail"}, check: quota(detail(50, 0), detail(-1, 0))},
		{name: "quota-defaults", legacy: []string{"quota-defaults", "--tenant", project}, osc: []string{"quotas", "default", "--tenant", project},
			check: quota("50", "-1")},
		{name: "quota-class-show", legacy: []string{"quota-class-show", "default"}, osc: []string{"quotaclass", "show", "default"},
			check: func(t *testing.T, v variant, rs []row) {
				if r := rs[0]; r.get("plans") != "50" || r.get("checkpoints") != "-1" || r.get("id") != "default" {
					t.Errorf("quota class %v", r)
				}
			}},
	})
	t.Run("quota-update", func(t *testing.T) {
		for _, u := range []struct {
			v     variant
			plans string
		}{{legacy, "2"}, {osc, "3"}} {
			r := c.run(t, u.v, []string{"quota-update", project, "--plans", u.plans}, []string{"quotas", "update", project, "--plans", u.plans}).record(t)
			if r.get("plans") != u.plans {
				t.Errorf("%s: updated %v, want plans %s", u.v, r, u.plans)
			}
			for _, v := range variants {
				quota(u.plans, "-1")(t, v, []row{c.run(t, v, []string{"quota-show", "--tenant", project},
					[]string{"quotas", "show", "--tenant", project}).record(t)})
			}
		}
		quota("50", "-1")(t, legacy, []row{c.karbor(t, "quota-defaults", "--tenant", project).record(t)})
		c.mustFail(t, legacy, "HTTP 400", "quota-update", project, "--plans", "-5")
	})
	t.Run("quota-enforced", func(t *testing.T) {
		for i := range 3 {
			c.karbor(t, "plan-create", fmt.Sprintf("p%d", i), dirProvider, resourceArg(app))
		}
		msg := "Maximum number of plans allowed (3) exceeded (HTTP 413)"
		c.mustFail(t, legacy, msg, "plan-create", "one-too-many", dirProvider, resourceArg(app))
		c.mustFail(t, osc, msg, "plan", "create", "one-too-many", dirProvider, resourceArg(app))
		for _, v := range variants {
			quota(detail(3, 3), detail(-1, 0))(t, v, []row{c.run(t, v, []string{"quota-show", "--tenant", project, "--detail"},
				[]string{"quotas", "show", "--tenant", project, "--detail"}).record(t)})
		}
	})
	t.Run("quota-class-update", func(t *testing.T) {
		for _, u := range []struct {
			v     variant
			plans string
		}{{legacy, "60"}, {osc, "70"}} {
			r := c.run(t, u.v, []string{"quota-class-update", "default", "--plans", u.plans},
				[]string{"quotaclass", "update", "default", "--plans", u.plans}).record(t)
			if r.get("plans") != u.plans {
				t.Errorf("%s: updated %v, want plans %s", u.v, r, u.plans)
			}
			for _, v := range variants {
				r := c.run(t, v, []string{"quota-class-show", "default"}, []string{"quotaclass", "show", "default"}).record(t)
				if r.get("plans") != u.plans || r.get("id") != "default" {
					t.Errorf("%s: quota class %v, want plans %s", v, r, u.plans)
				}
			}
		}
	})
	// Client bugs without --tenant: karbor crashes before any request; OSC
	// asks for /quotas/None.
	t.Run("quota-show-without-tenant", func(t *testing.T) {
		o := c.mustFail(t, legacy, "'HTTPClient' object has no attribute 'get_project_id'", "quota-show")
		if len(o.wire) != 0 {
			t.Errorf("karbor quota-show reached the server:\n%s", o.wireString())
		}
		o = c.exec(t, osc, "quotas", "show", "-f", "json")
		if len(o.wire) != 1 || !strings.HasSuffix(o.wire[0].URL, "/quotas/None") {
			t.Errorf("openstack quotas show without --tenant:\n%s", o.describe())
		}
	})
}
