package cli_test

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/tests/treetest"
)

// sameBytes fails unless every regular file of kept has the same bytes at
// the same place under got, and got has no other file.
func sameBytes(t *testing.T, got, kept string) {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(kept, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(kept, p)
		seen[rel] = true
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		have, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("restored tree: %v", err)
			return nil
		}
		if !bytes.Equal(have, want) {
			t.Errorf("%s: restored %d bytes differ from the %d kept", rel, len(have), len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if rel, _ := filepath.Rel(got, p); !seen[rel] {
				t.Errorf("restored tree has %s, which was not protected", rel)
			}
		}
		return nil
	})
}

// TestLocalDirectoryCycle is the whole life of a local directory's
// protection through the clients: find the instance, plan it, checkpoint it
// (both clients), list and show checkpoints, lose the files, restore them
// (both clients, by restore_path, restore target and in place) and compare
// byte for byte, verify, reset state, delete the checkpoints and read the
// operation logs.
func TestLocalDirectoryCycle(t *testing.T) {
	t.Parallel()
	root := realDir(t, t.TempDir())
	app := filepath.Join(root, "app")
	big := make([]byte, 300<<10)
	rng := rand.NewChaCha8([32]byte{42})
	rng.Read(big)
	mkTree(t, app, map[string]string{
		"etc/app.conf":         "port = 80\n",
		"data/nested/deep.txt": "deep\n",
		"empty.txt":            "",
		"bin.dat":              string(big),
		"skip.tmp":             "excluded by the plan's parameters\n",
	})
	if err := os.MkdirAll(filepath.Join(app, "data", "empty-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := treetest.Snapshot(t, app)
	delete(want, "skip.tmp") // the plan excludes *.tmp
	kept := filepath.Join(t.TempDir(), "kept")
	if err := os.CopyFS(kept, os.DirFS(app)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(kept, "skip.tmp")); err != nil {
		t.Fatal(err)
	}
	s := start(t, root)
	const project = "cli-cycle"
	c := newClient(s, project)
	appID := localdir.IDFor(app)

	t.Run("instance", func(t *testing.T) {
		for _, v := range variants {
			rs := c.run(t, v, []string{"protectable-list-instances", dirType}, []string{"protectable", "instance", "list", dirType}).rows(t)
			r := find(rs, "name", app)
			if r == nil || r.get("id") != appID || r.get("type") != dirType {
				t.Fatalf("%s: %s not listed with id %s: %v", v, app, appID, rs)
			}
		}
	})

	var planID string
	t.Run("plan", func(t *testing.T) {
		r := c.karbor(t, "plan-create", "cycle", dirProvider, resourceArg(app),
			"--parameters", "resource_type="+dirType+",exclude=*.tmp").record(t)
		checkPlan(t, r, "cycle", "suspended", []planResource{dirResource(app)}, map[string]map[string]string{dirType: {"exclude": "*.tmp"}})
		planID = r.get("id")
	})
	if planID == "" {
		t.Fatal("no plan")
	}

	cpShow := func(t *testing.T, v variant, id string) row {
		t.Helper()
		return c.run(t, v, []string{"checkpoint-show", dirProvider, id}, []string{"checkpoint", "show", dirProvider, id}).record(t)
	}
	waitCheckpoint := func(t *testing.T, v variant, id string, done func(string) bool) string {
		t.Helper()
		return poll(t, "checkpoint "+id, 2*time.Minute, func() string { return cpShow(t, v, id).get("status") }, done)
	}
	// cps[0] by karbor, cps[1] by openstack, created between dayBefore and
	// dayAfter (UTC dates; a run may cross midnight).
	var cps []string
	dayBefore, dayAfter := today(), ""
	createdOn := func(d string) bool { return d == dayBefore || d == dayAfter }
	t.Run("checkpoint-create", func(t *testing.T) {
		defer func() { dayAfter = today() }()
		extra := map[variant]map[string]string{legacy: {"why": "cli-test", "who": "tester"}, osc: {"a": "b"}}
		for _, v := range variants {
			r := c.run(t, v, []string{"checkpoint-create", dirProvider, planID, "--extra_info", "why=cli-test", "who=tester"},
				[]string{"checkpoint", "create", dirProvider, planID, "--extra_info", "a=b"}).record(t)
			if r.get("id") == "" || r.get("status") != "protecting" || r.get("project_id") != project {
				t.Errorf("%s: created %v", v, r)
			}
			if !strings.Contains(r.get("protection_plan"), planID) {
				t.Errorf("%s: protection_plan %q without the plan id", v, r.get("protection_plan"))
			}
			var info map[string]string
			r.jsonOf(t, "extra_info", &info)
			if !reflect.DeepEqual(info, extra[v]) {
				t.Errorf("%s: extra_info %v, want %v", v, info, extra[v])
			}
			var graph []any
			r.jsonOf(t, "resource_graph", &graph)
			if len(graph) != 2 || !strings.Contains(r.get("resource_graph"), appID) {
				t.Errorf("%s: resource_graph %q", v, r.get("resource_graph"))
			}
			cps = append(cps, r.get("id"))
		}
		for i, v := range variants {
			if st := waitCheckpoint(t, v, cps[i], func(s string) bool { return s != "protecting" }); st != "available" {
				t.Fatalf("%s: checkpoint %s ended %s", v, cps[i], st)
			}
		}
	})
	if len(cps) != 2 {
		t.Fatalf("checkpoints: %v", cps)
	}

	checkCPs := func(want ...string) func(t *testing.T, v variant, rs []row) {
		return func(t *testing.T, v variant, rs []row) {
			if !sameSet(ids(rs), want) {
				t.Fatalf("checkpoints %v, want %v", ids(rs), want)
			}
			for _, r := range rs {
				if r.get("status") != "available" || r.get("project id") != project || !createdOn(r.get("created at")) ||
					!strings.Contains(r.get("protection plan"), planID) || !strings.Contains(r.get("protection plan"), "cycle") {
					t.Errorf("listed %v", r)
				}
			}
		}
	}
	checkShow := func(id string, extra map[string]string) func(t *testing.T, v variant, rs []row) {
		return func(t *testing.T, v variant, rs []row) {
			r := rs[0]
			if r.get("id") != id || r.get("status") != "available" || !createdOn(r.get("created_at")) || r.get("project_id") != project {
				t.Errorf("show %v", r)
			}
			if !strings.Contains(r.get("protection_plan"), planID) {
				t.Errorf("protection_plan %q", r.get("protection_plan"))
			}
			var info map[string]string
			r.jsonOf(t, "extra_info", &info)
			if !reflect.DeepEqual(info, extra) {
				t.Errorf("extra_info %v, want %v", info, extra)
			}
		}
	}
	c.reads(t, "checkpoints", []readCase{
		{name: "checkpoint-list", legacy: []string{"checkpoint-list", dirProvider}, osc: []string{"checkpoint", "list", dirProvider},
			list: true, check: checkCPs(cps...)},
		{name: "checkpoint-list-plan", legacy: []string{"checkpoint-list", dirProvider, "--plan_id", planID},
			osc: []string{"checkpoint", "list", dirProvider, "--plan_id", planID}, list: true, check: checkCPs(cps...)},
		{name: "checkpoint-list-other-plan", legacy: []string{"checkpoint-list", dirProvider, "--plan_id", unknownID},
			osc: []string{"checkpoint", "list", dirProvider, "--plan_id", unknownID}, list: true, check: checkCPs()},
		{name: "checkpoint-list-dates", legacy: []string{"checkpoint-list", dirProvider, "--start_date", dayBefore, "--end_date", dayAfter},
			osc: []string{"checkpoint", "list", dirProvider, "--start_date", dayBefore, "--end_date", dayAfter}, list: true, check: checkCPs(cps...)},
		{name: "checkpoint-list-start-date", legacy: []string{"checkpoint-list", dirProvider, "--start_date", "2000-01-01"},
			osc: []string{"checkpoint", "list", dirProvider, "--start_date", "2000-01-01"}, list: true, check: checkCPs(cps...)},
		{name: "checkpoint-list-past", legacy: []string{"checkpoint-list", dirProvider, "--start_date", "2000-01-01", "--end_date", "2000-01-02"},
			osc: []string{"checkpoint", "list", dirProvider, "--start_date", "2000-01-01", "--end_date", "2000-01-02"}, list: true, check: checkCPs()},
		{name: "checkpoint-list-noop", legacy: []string{"checkpoint-list", noopProvider}, osc: []string{"checkpoint", "list", noopProvider},
			list: true, check: checkCPs()},
		{name: "checkpoint-list-limit", legacy: []string{"checkpoint-list", dirProvider, "--limit", "1"},
			osc: []string{"checkpoint", "list", dirProvider, "--limit", "1"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 1 || !contains(cps, rs[0].get("id")) {
					t.Errorf("--limit 1: %v", ids(rs))
				}
			}},
		{name: "checkpoint-show-karbor-made", legacy: []string{"checkpoint-show", dirProvider, cps[0]},
			osc: []string{"checkpoint", "show", dirProvider, cps[0]}, check: checkShow(cps[0], map[string]string{"why": "cli-test", "who": "tester"})},
		{name: "checkpoint-show-osc-made", legacy: []string{"checkpoint-show", dirProvider, cps[1]},
			osc: []string{"checkpoint", "show", dirProvider, cps[1]}, check: checkShow(cps[1], map[string]string{"a": "b"})},
	})
	t.Run("checkpoint-list-marker", func(t *testing.T) {
		for _, v := range variants {
			first := c.run(t, v, []string{"checkpoint-list", dirProvider, "--limit", "1"}, []string{"checkpoint", "list", dirProvider, "--limit", "1"}).rows(t)
			if len(first) != 1 {
				t.Fatalf("%s: --limit 1: %v", v, ids(first))
			}
			next := c.run(t, v, []string{"checkpoint-list", dirProvider, "--marker", first[0].get("id")},
				[]string{"checkpoint", "list", dirProvider, "--marker", first[0].get("id")}).rows(t)
			var other string
			for _, id := range cps {
				if id != first[0].get("id") {
					other = id
				}
			}
			if got := ids(next); len(got) != 1 || got[0] != other {
				t.Errorf("%s: after %s: %v, want [%s]", v, first[0].get("id"), got, other)
			}
		}
	})

	// Lose the directory, then restore it: elsewhere by parameters (both
	// clients), to the restore target, and in place.
	treetest.RemoveAll(t, app)
	type restoreRun struct {
		name, id, dir, checkpoint string
	}
	var restores []restoreRun
	restoreShow := func(t *testing.T, v variant, id string) row {
		t.Helper()
		return c.run(t, v, []string{"restore-show", id}, []string{"restore", "show", id}).record(t)
	}
	restoreCases := []struct {
		name       string
		v          variant
		checkpoint string
		dir        string
		args       []string
		target     string
	}{
		{"karbor-parameters", legacy, cps[0], filepath.Join(root, "restored-karbor"),
			[]string{"--parameters", "resource_type=" + dirType + ",restore_path=" + filepath.Join(root, "restored-karbor")}, ""},
		{"osc-parameters-json", osc, cps[1], filepath.Join(root, "restored-osc"),
			[]string{"--parameters-json", `{"` + dirType + `": {"restore_path": "` + filepath.Join(root, "restored-osc") + `"}}`}, ""},
		{"karbor-target", legacy, cps[0], filepath.Join(root, "restored-target"),
			[]string{"--restore_target", filepath.Join(root, "restored-target"), "--restore_username", "demo", "--restore_password", "secret"},
			filepath.Join(root, "restored-target")},
		{"osc-in-place", osc, cps[1], app, nil, ""},
	}
	for _, rc := range restoreCases {
		t.Run("restore-"+rc.name, func(t *testing.T) {
			args := map[variant][]string{legacy: {"restore-create", dirProvider, rc.checkpoint}, osc: {"restore", "create", dirProvider, rc.checkpoint}}[rc.v]
			args = append(append([]string(nil), args...), rc.args...)
			if rc.v == osc {
				args = append(args, "-f", "json")
			}
			r := c.must(t, rc.v, args...).record(t)
			id := r.get("id")
			if id == "" || r.get("checkpoint_id") != rc.checkpoint || r.get("provider_id") != dirProvider || r.get("project_id") != project ||
				r.get("restore_target") != rc.target || (r.get("status") != "in_progress" && r.get("status") != "success") {
				t.Errorf("created %v", r)
			}
			st := poll(t, "restore "+id, 2*time.Minute, func() string { return restoreShow(t, rc.v, id).get("status") },
				func(s string) bool { return s != "in_progress" })
			if st != "success" {
				t.Fatalf("restore %s ended %s: %v", id, st, restoreShow(t, rc.v, id))
			}
			restores = append(restores, restoreRun{rc.name, id, rc.dir, rc.checkpoint})
			treetest.Compare(t, treetest.Snapshot(t, rc.dir), want)
			sameBytes(t, rc.dir, kept)
		})
	}
	var restoreIDs []string
	for _, r := range restores {
		restoreIDs = append(restoreIDs, r.id)
	}
	if len(restores) > 0 {
		first := restores[0]
		c.reads(t, "restores", []readCase{
			{name: "restore-list", legacy: []string{"restore-list"}, osc: []string{"restore", "list"}, list: true,
				check: func(t *testing.T, v variant, rs []row) {
					if !sameSet(ids(rs), restoreIDs) {
						t.Fatalf("restores %v, want %v", ids(rs), restoreIDs)
					}
					for _, r := range rs {
						if r.get("status") != "success" || r.get("provider id") != dirProvider || !contains(cps, r.get("checkpoint id")) {
							t.Errorf("listed %v", r)
						}
					}
				}},
			{name: "restore-list-status", legacy: []string{"restore-list", "--status", "success"}, osc: []string{"restore", "list", "--status", "success"},
				list: true, check: func(t *testing.T, v variant, rs []row) {
					if !sameSet(ids(rs), restoreIDs) {
						t.Errorf("success restores %v, want %v", ids(rs), restoreIDs)
					}
				}},
			{name: "restore-list-status-fail", legacy: []string{"restore-list", "--status", "fail"}, osc: []string{"restore", "list", "--status", "fail"},
				list: true, check: func(t *testing.T, v variant, rs []row) {
					if len(rs) != 0 {
						t.Errorf("failed restores %v", ids(rs))
					}
				}},
			{name: "restore-list-limit", legacy: []string{"restore-list", "--limit", "1"}, osc: []string{"restore", "list", "--limit", "1"},
				list: true, check: func(t *testing.T, v variant, rs []row) {
					if len(rs) != 1 || !contains(restoreIDs, rs[0].get("id")) {
						t.Errorf("--limit 1: %v", ids(rs))
					}
				}},
			{name: "restore-show", legacy: []string{"restore-show", first.id}, osc: []string{"restore", "show", first.id},
				check: func(t *testing.T, v variant, rs []row) {
					r := rs[0]
					if r.get("id") != first.id || r.get("status") != "success" || r.get("checkpoint_id") != first.checkpoint {
						t.Errorf("show %v", r)
					}
					var params map[string]map[string]string
					r.jsonOf(t, "parameters", &params)
					if params[dirType]["restore_path"] != first.dir {
						t.Errorf("parameters %v", params)
					}
				}},
		})
	}

	// Verify both checkpoints (the local directory plugin re-reads the bank).
	var verifications []string
	t.Run("verification-create", func(t *testing.T) {
		for i, v := range variants {
			r := c.run(t, v, []string{"verification-create", dirProvider, cps[i]}, []string{"verification", "create", dirProvider, cps[i]}).record(t)
			id := r.get("id")
			if id == "" || r.get("checkpoint_id") != cps[i] || r.get("provider_id") != dirProvider ||
				(r.get("status") != "in_progress" && r.get("status") != "success") {
				t.Errorf("%s: created %v", v, r)
			}
			show := func() row {
				return c.run(t, v, []string{"verification-show", id}, []string{"verification", "show", id}).record(t)
			}
			st := poll(t, "verification "+id, 2*time.Minute, func() string { return show().get("status") },
				func(s string) bool { return s != "in_progress" })
			if st != "success" {
				t.Errorf("%s: verification %s ended %s: %v", v, id, st, show())
			}
			verifications = append(verifications, id)
		}
	})
	if len(verifications) > 0 {
		c.reads(t, "verifications", []readCase{
			{name: "verification-list", legacy: []string{"verification-list"}, osc: []string{"verification", "list"}, list: true,
				check: func(t *testing.T, v variant, rs []row) {
					if !sameSet(ids(rs), verifications) {
						t.Fatalf("verifications %v, want %v", ids(rs), verifications)
					}
					for _, r := range rs {
						if r.get("status") != "success" || r.get("provider id") != dirProvider || !contains(cps, r.get("checkpoint id")) {
							t.Errorf("listed %v", r)
						}
					}
				}},
			{name: "verification-list-status", legacy: []string{"verification-list", "--status", "success"},
				osc: []string{"verification", "list", "--status", "success"}, list: true,
				check: func(t *testing.T, v variant, rs []row) {
					if !sameSet(ids(rs), verifications) {
						t.Errorf("success verifications %v, want %v", ids(rs), verifications)
					}
				}},
			{name: "verification-show", legacy: []string{"verification-show", verifications[0]}, osc: []string{"verification", "show", verifications[0]},
				check: func(t *testing.T, v variant, rs []row) {
					r := rs[0]
					if r.get("id") != verifications[0] || r.get("status") != "success" || r.get("checkpoint_id") != cps[0] ||
						r.get("provider_id") != dirProvider || r.get("project_id") != project {
						t.Errorf("show %v", r)
					}
				}},
		})
	}

	// Reset state: karbor's default is "error", --available brings it back.
	t.Run("checkpoint-reset-state", func(t *testing.T) {
		o := c.karbor(t, "checkpoint-reset-state", dirProvider, cps[1])
		if st := cpShow(t, legacy, cps[1]).get("status"); st != "error" {
			t.Errorf("after checkpoint-reset-state: status %s, want error\n%s", st, o.describe())
		}
		c.openstack(t, "checkpoint", "reset", "state", dirProvider, cps[1], "--available")
		if st := cpShow(t, osc, cps[1]).get("status"); st != "available" {
			t.Errorf("after checkpoint reset state --available: status %s", st)
		}
		c.openstack(t, "checkpoint", "reset", "state", dirProvider, cps[1])
		if st := cpShow(t, osc, cps[1]).get("status"); st != "error" {
			t.Errorf("after checkpoint reset state: status %s, want error", st)
		}
		c.karbor(t, "checkpoint-reset-state", dirProvider, cps[1], "--available")
		if st := cpShow(t, legacy, cps[1]).get("status"); st != "available" {
			t.Errorf("after checkpoint-reset-state --available: status %s", st)
		}
		for _, v := range variants {
			args := map[variant][]string{legacy: {"checkpoint-reset-state", dirProvider, unknownID},
				osc: {"checkpoint", "reset", "state", dirProvider, unknownID}}[v]
			c.mustFail(t, v, "Unable to find or reset any of the specified checkpoint's state.", args...)
		}
	})

	// Delete: the checkpoints go "deleted", stay readable, leave the lists.
	t.Run("checkpoint-delete", func(t *testing.T) {
		c.karbor(t, "checkpoint-delete", dirProvider, cps[0])
		c.openstack(t, "checkpoint", "delete", dirProvider, cps[1])
		for i, v := range variants {
			if st := waitCheckpoint(t, v, cps[i], func(s string) bool { return s != "deleting" && s != "available" }); st != "deleted" {
				t.Errorf("%s: checkpoint %s ended %s after delete", v, cps[i], st)
			}
		}
		for _, v := range variants {
			for _, args := range [][2][]string{
				{{"checkpoint-list", dirProvider}, {"checkpoint", "list", dirProvider}},
				{{"checkpoint-list", dirProvider, "--plan_id", planID}, {"checkpoint", "list", dirProvider, "--plan_id", planID}},
				{{"checkpoint-list", dirProvider, "--start_date", dayBefore}, {"checkpoint", "list", dirProvider, "--start_date", dayBefore}},
			} {
				if rs := c.run(t, v, args[0], args[1]).rows(t); len(rs) != 0 {
					t.Errorf("%s: deleted checkpoints still listed: %v", v, ids(rs))
				}
			}
		}
		c.mustFail(t, legacy, "Unable to find and delete any of the specified checkpoint.", "checkpoint-delete", dirProvider, unknownID)
		c.mustFail(t, osc, "Unable to find and delete any of the specified checkpoint.", "checkpoint", "delete", dirProvider, unknownID)
	})

	// Operation logs: one protect and one delete per checkpoint, one restore
	// per restore, one verify per verification.
	type logWant struct{ typ, checkpoint, restore, status string }
	var wantLogs []logWant
	for _, cp := range cps {
		wantLogs = append(wantLogs, logWant{"protect", cp, "", "available"}, logWant{"delete", cp, "", "deleted"})
	}
	for _, r := range restores {
		wantLogs = append(wantLogs, logWant{"restore", r.checkpoint, r.id, "success"})
	}
	for i := range verifications {
		wantLogs = append(wantLogs, logWant{"verify", cps[i], "", "success"})
	}
	var protectLog string
	checkLogs := func(t *testing.T, v variant, rs []row) {
		if len(rs) != len(wantLogs) {
			t.Errorf("%d operation logs, want %d: %v", len(rs), len(wantLogs), rs)
		}
		for _, w := range wantLogs {
			found := false
			for _, r := range rs {
				if r.get("operation type") == w.typ && r.get("checkpoint id") == w.checkpoint && r.get("status") == w.status &&
					(w.restore == "" || r.get("restore id") == w.restore) {
					found = true
					if r.get("provider id") != dirProvider || r.get("started at") == "" || r.get("ended at") == "" {
						t.Errorf("log %v", r)
					}
					if w.typ == "protect" && w.checkpoint == cps[0] {
						protectLog = r.get("id")
					}
				}
			}
			if !found {
				t.Errorf("no %s log of checkpoint %s with status %s (restore %q) in %v", w.typ, w.checkpoint, w.status, w.restore, rs)
			}
		}
	}
	c.reads(t, "operationlogs", []readCase{
		{name: "operationlog-list", legacy: []string{"operationlog-list"}, osc: []string{"operationlog", "list"}, list: true, check: checkLogs},
		{name: "operationlog-list-status", legacy: []string{"operationlog-list", "--status", "deleted"},
			osc: []string{"operationlog", "list", "--status", "deleted"}, list: true,
			check: func(t *testing.T, v variant, rs []row) {
				if len(rs) != 2 {
					t.Errorf("deleted logs: %v", rs)
				}
				for _, r := range rs {
					if r.get("operation type") != "delete" || !contains(cps, r.get("checkpoint id")) {
						t.Errorf("listed %v", r)
					}
				}
			}},
	})
	if protectLog == "" {
		t.Fatal("no protect log found")
	}
	c.reads(t, "operationlog-show", []readCase{
		{name: "operationlog-show", legacy: []string{"operationlog-show", protectLog}, osc: []string{"operationlog", "show", protectLog},
			check: func(t *testing.T, v variant, rs []row) {
				r := rs[0]
				if r.get("id") != protectLog || r.get("operation_type") != "protect" || r.get("checkpoint_id") != cps[0] ||
					r.get("plan_id") != planID || r.get("provider_id") != dirProvider || r.get("status") != "available" {
					t.Errorf("show %v", r)
				}
				for _, k := range []string{"started_at", "ended_at"} {
					if _, err := time.Parse("2006-01-02T15:04:05.000000", r.get(k)); err != nil {
						t.Errorf("%s %q: %v", k, r.get(k), err)
					}
				}
			}},
	})
}
