package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/plugins/noop"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/graph"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

type hookKey struct {
	id   string
	hook protection.Hook
}

// runsOf indexes the events of one operation, failing on a hook that ran twice.
func runsOf(t *testing.T, evs []noop.Event, op string) map[hookKey]noop.Event {
	t.Helper()
	out := map[hookKey]noop.Event{}
	for _, e := range evs {
		if e.OperationID != op {
			continue
		}
		k := hookKey{e.Resource.ID, e.Hook}
		if prev, ok := out[k]; ok && prev.Err == nil {
			t.Errorf("%s %s ran twice", e.Resource.Name, e.Hook)
		}
		out[k] = e
	}
	return out
}

// karborEdges lists every (before, after) pair of spec §4.3 for a graph.
func karborEdges(g *graph.Graph) [][2]hookKey {
	var out [][2]hookKey
	for _, n := range g.Nodes {
		id := n.Resource.ID
		for h := protection.PrepareBegin; h < protection.Complete; h++ {
			out = append(out, [2]hookKey{{id, h}, {id, h + 1}})
		}
		for _, c := range n.Children {
			cid := g.Nodes[c].Resource.ID
			out = append(out,
				[2]hookKey{{id, protection.PrepareBegin}, {cid, protection.PrepareBegin}},
				[2]hookKey{{cid, protection.PrepareFinish}, {id, protection.PrepareFinish}},
				[2]hookKey{{cid, protection.Complete}, {id, protection.Complete}})
		}
	}
	return out
}

func overlap(a, b noop.Event) bool { return a.Start.Before(b.End) && b.Start.Before(a.End) }

func TestHookOrder(t *testing.T) {
	h := newHarness(t, options{})
	root, all := threeLevel(h)
	v4, s2 := res(volumeType, 4), res(serverType, 2)
	// Every hook takes a while, so that two hooks that may run together
	// overlap even on a loaded machine; volume 4 is the slowest.
	delays := model.Parameters{
		serverType:               {"delay_ms": "60"},
		volumeType:               {"delay_ms": "20"},
		volumeType + "#" + v4.ID: {"delay_ms": "400"},
	}
	plan := h.plan(t, []model.Resource{root}, delays)
	cp := h.protect(t, plan)
	if cp.Status != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: status %s, reasons %v", cp.ID, cp.Status, cp.ResourcesReason)
	}
	g, err := graph.Parse(cp.ResourceGraph)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != len(all) {
		t.Fatalf("graph has %d nodes, want %d (dependencies pulled in)", len(g.Nodes), len(all))
	}
	ops := map[model.OperationType]string{model.OpProtect: cp.OperationID}

	// Restore and delete walk the same graph with the same edges.
	rs := h.restore(t, cp, delays)
	if rs.Status != model.RestoreSuccess {
		t.Fatalf("restore status %s", rs.Status)
	}
	ops[model.OpRestore] = rs.OperationID
	del, err := h.app.Engine.Delete(context.Background(), noopProvider, cp.ID, protection.Scope{ProjectID: "demo"}, false)
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	ops[model.OpDelete] = del.OperationID
	if got := h.checkpoint(t, noopProvider, cp.ID).Status; got != model.CheckpointDeleted {
		t.Fatalf("after delete: status %s", got)
	}

	evs := h.rec.Events()
	for typ := range ops {
		opID := ""
		for _, e := range evs {
			if e.Operation == typ {
				opID = e.OperationID
			}
		}
		runs := runsOf(t, evs, opID)
		if len(runs) != 4*len(all) {
			t.Errorf("%s: %d hook runs, want %d", typ, len(runs), 4*len(all))
		}
		for _, e := range karborEdges(g) {
			a, okA := runs[e[0]]
			b, okB := runs[e[1]]
			if !okA || !okB {
				t.Fatalf("%s: missing run of %v or %v", typ, e[0], e[1])
			}
			if b.Start.Before(a.End) {
				t.Errorf("%s: %s %s started before %s %s ended", typ,
					all[e[1].id].Name, e[1].hook, all[e[0].id].Name, e[0].hook)
			}
		}
		// Karbor: a parent's on_main needs only its own prepare_finish, so it
		// runs while its slow child's on_main still runs. (Delete gets no
		// parameters, hence no delays.)
		if typ != model.OpDelete && !overlap(runs[hookKey{s2.ID, protection.Main}], runs[hookKey{v4.ID, protection.Main}]) {
			t.Errorf("%s: parent and child on_main did not run in parallel", typ)
		}
	}
}

func TestFailingHook(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failOn    model.Resource
		hook      protection.Hook
		neverRuns []hookKey // hooks that depend on the failed one
	}{
		{"volume main", res(volumeType, 5), protection.Main, []hookKey{
			{res(volumeType, 5).ID, protection.Complete},
			{res(serverType, 2).ID, protection.Complete}, {res(serverType, 3).ID, protection.Complete},
			{res(projectType, 1).ID, protection.Complete}}},
		{"server prepare_begin", res(serverType, 2), protection.PrepareBegin, []hookKey{
			{res(volumeType, 4).ID, protection.PrepareBegin}, {res(volumeType, 5).ID, protection.PrepareBegin},
			{res(serverType, 2).ID, protection.PrepareFinish}, {res(projectType, 1).ID, protection.PrepareFinish},
			{res(projectType, 1).ID, protection.Main}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			root, _ := threeLevel(h)
			plan := h.plan(t, []model.Resource{root}, model.Parameters{
				tc.failOn.Type + "#" + tc.failOn.ID: {"fail_hook": tc.hook.String()},
			})
			cp := h.protect(t, plan)
			if cp.Status != model.CheckpointError {
				t.Fatalf("status %s, want error", cp.Status)
			}
			key := tc.failOn.StatusKey()
			if cp.ResourcesStatus[key] != model.ResourceError {
				t.Errorf("resources_status[%s] = %q, want error (all: %v)", key, cp.ResourcesStatus[key], cp.ResourcesStatus)
			}
			if !strings.Contains(cp.ResourcesReason[key], "failure injected") {
				t.Errorf("resources_reason[%s] = %q", key, cp.ResourcesReason[key])
			}
			if len(cp.ResourcesReason) != 1 {
				t.Errorf("reasons for other resources: %v", cp.ResourcesReason)
			}
			runs := runsOf(t, h.rec.Events(), cp.OperationID)
			for _, k := range tc.neverRuns {
				if _, ran := runs[k]; ran {
					t.Errorf("%v ran after the failure it depends on", k)
				}
			}
			st, err := h.app.Engine.OperationStatus(context.Background(), cp.OperationID)
			if err != nil || st.Status != "failed" || !strings.Contains(st.Error, key) {
				t.Errorf("operation status %+v, %v", st, err)
			}
			logs, err := h.app.Store.OperationLogs.List(context.Background(), storeAll("demo"))
			if err != nil || len(logs) != 1 || logs[0].Status != model.CheckpointError || logs[0].EndedAt == nil {
				t.Errorf("operation log: %+v %v", logs, err)
			}
		})
	}
}

func TestTransientFailuresRetry(t *testing.T) {
	h := newHarness(t, options{})
	root, _ := threeLevel(h)
	v6 := res(volumeType, 6)
	plan := h.plan(t, []model.Resource{root}, model.Parameters{v6.Type + "#" + v6.ID: {"transient_failures": "2"}})
	cp := h.protect(t, plan)
	if cp.Status != model.CheckpointAvailable {
		t.Fatalf("status %s: %v", cp.Status, cp.ResourcesReason)
	}
	attempts := map[protection.Hook]int{}
	for _, e := range h.rec.Events() {
		if e.Resource.ID == v6.ID {
			attempts[e.Hook] = max(attempts[e.Hook], e.Attempt)
		}
	}
	for _, hk := range protection.Hooks {
		if attempts[hk] != 3 {
			t.Errorf("%s: %d attempts, want 3 (two transient failures, then success)", hk, attempts[hk])
		}
	}

	// More transient failures than attempts: the hook fails for good.
	plan = h.plan(t, []model.Resource{v6}, model.Parameters{v6.Type: {"transient_failures": "10"}})
	cp = h.protect(t, plan)
	if cp.Status != model.CheckpointError || !strings.Contains(cp.ResourcesReason[v6.StatusKey()], "after 4 attempts") {
		t.Fatalf("status %s, reason %q", cp.Status, cp.ResourcesReason[v6.StatusKey()])
	}
	// Hooks know their last attempt: the 4th, never before.
	last := 0
	for _, e := range h.rec.Events() {
		if e.Resource.ID != v6.ID {
			continue
		}
		if e.LastAttempt != (e.Attempt == 4) {
			t.Errorf("%s attempt %d: LastAttempt %v", e.Hook, e.Attempt, e.LastAttempt)
		}
		if e.LastAttempt {
			last++
		}
	}
	if last == 0 {
		t.Error("no hook ran a last attempt")
	}
}

// mainOnly is a plugin with only an on_main hook, so the other three tasks of
// each resource go straight to the completion step.
type mainOnly struct{ runs *atomic.Int64 }

func (m mainOnly) ResourceTypes() []string           { return []string{projectType, serverType, volumeType} }
func (m mainOnly) Schemas(string) protection.Schemas { return protection.Schemas{} }
func (m mainOnly) Operation(model.OperationType, model.Resource) (protection.Operation, error) {
	return protection.Operation{Main: func(context.Context, *protection.HookContext) error {
		m.runs.Add(1)
		time.Sleep(time.Millisecond)
		return nil
	}}, nil
}

func TestDuplicateDelivery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deliver func(run invoke.Func) invoke.Func
	}{
		{"twice in a row", func(run invoke.Func) invoke.Func {
			return func(ctx context.Context, p []byte) error {
				if err := run(ctx, p); err != nil {
					return err
				}
				return run(ctx, p)
			}
		}},
		{"twice at once", func(run invoke.Func) invoke.Func {
			return func(ctx context.Context, p []byte) error {
				errc := make(chan error, 1)
				go func() { errc <- run(ctx, p) }()
				return errors.Join(run(ctx, p), <-errc)
			}
		}},
	} {
		for _, plugin := range []string{"karbor-noop-protection-plugin", "main-only"} {
			t.Run(tc.name+"/"+plugin, func(t *testing.T) {
				var mainRuns atomic.Int64
				h := newHarness(t, options{deliver: tc.deliver, plugins: protection.Registry{
					"karbor-noop-protection-plugin": func(cfg *conf.File) (protection.Plugin, error) {
						if plugin == "main-only" {
							return mainOnly{&mainRuns}, nil
						}
						return noop.New(nil)(cfg) // replaced below by the recorder's
					},
				}})
				if plugin != "main-only" {
					h = newHarness(t, options{deliver: tc.deliver})
				}
				root, all := threeLevel(h)
				cp := h.protect(t, h.plan(t, []model.Resource{root}, model.Parameters{}))
				if cp.Status != model.CheckpointAvailable {
					t.Fatalf("status %s: %v", cp.Status, cp.ResourcesReason)
				}
				if plugin == "main-only" {
					if n := mainRuns.Load(); n != int64(len(all)) {
						t.Errorf("on_main ran %d times, want %d", n, len(all))
					}
				} else if runs := runsOf(t, h.rec.Events(), cp.OperationID); len(runs) != 4*len(all) {
					t.Errorf("%d hook runs, want %d", len(runs), 4*len(all))
				}
				h.checkCounters(t, cp.OperationID, 4*len(all))
			})
		}
	}
}

// checkCounters reads the operation's counters in Redis after its end.
func (h *harness) checkCounters(t *testing.T, op string, tasks int) {
	t.Helper()
	ctx := context.Background()
	base := "pouch:op:{" + op + "}"
	f, err := h.app.Redis.HGetAll(ctx, base).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"status": "succeeded", "tasks_done": strconv.Itoa(tasks), "tasks_total": strconv.Itoa(tasks),
		"inflight": "0", "res_done": strconv.Itoa(tasks / 4)}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	pending, err := h.app.Redis.HGetAll(ctx, base+":pending").Result()
	if err != nil {
		t.Fatal(err)
	}
	for task, n := range pending {
		if v, _ := strconv.Atoi(n); v != 0 {
			t.Errorf("pending[%s] = %s after the end, want 0", task, n)
		}
	}
	for _, k := range []string{base, base + ":pending", base + ":state", base + ":nodes"} {
		if ttl := h.app.Redis.TTL(ctx, k).Val(); ttl <= 0 || ttl > 24*time.Hour {
			t.Errorf("%s: TTL %v, want it to expire within a day", k, ttl)
		}
	}
}

func TestSweepFinishesWhatAFinisherLeft(t *testing.T) {
	h := newHarness(t, options{})
	root, _ := threeLevel(h)
	cp := h.protect(t, h.plan(t, []model.Resource{root}, model.Parameters{}))
	ctx := context.Background()
	// Put back the state a finisher leaves when it dies right after the last
	// completion: graph done, operation still running, checkpoint protecting.
	base := "pouch:op:{" + cp.OperationID + "}"
	h.app.Redis.HSet(ctx, base, "status", "running")
	h.app.Redis.ZAdd(ctx, "pouch:ops:active", redisZ(cp.OperationID))
	p := h.provider(t, noopProvider)
	cp.Status = model.CheckpointProtecting
	col := checkpointCollection(p)
	if err := col.Update(ctx, cp); err != nil {
		t.Fatal(err)
	}
	// Its claim is still live: the sweep leaves it alone.
	if n, err := h.app.Engine.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep with a live claim: %d, %v", n, err)
	}
	h.app.Redis.Del(ctx, base+":finish") // the claim expires
	if n, err := h.app.Engine.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if got := h.checkpoint(t, noopProvider, cp.ID).Status; got != model.CheckpointAvailable {
		t.Fatalf("status %s after sweep", got)
	}
	if n, err := h.app.Engine.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		plan *model.Plan
		want string
	}{
		{"type without plugin", &model.Plan{ProviderID: noopProvider, ProjectID: "demo",
			Resources: []model.Resource{{Type: "Pouch::Local::Directory", ID: "x", Name: "/tmp"}}},
			"no plugin of provider"},
		{"unknown provider", &model.Plan{ProviderID: "00000000-0000-4000-8000-000000000000", ProjectID: "demo",
			Resources: []model.Resource{res(volumeType, 1)}}, "provider not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.app.Engine.Protect(ctx, engine.ProtectRequest{Plan: tc.plan})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
			if !errors.Is(err, engine.ErrInvalid) && !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("err %v is neither ErrInvalid nor ErrNotFound", err)
			}
		})
	}
	t.Run("cycle", func(t *testing.T) {
		a, b := res(serverType, 1), res(volumeType, 2)
		h.app.Catalog.Add(inventory{typ: volumeType, parents: []string{serverType}, deps: map[string][]model.Resource{a.ID: {b}}})
		h.app.Catalog.Add(inventory{typ: serverType, parents: []string{volumeType}, deps: map[string][]model.Resource{b.ID: {a}}})
		_, err := h.app.Engine.Protect(ctx, engine.ProtectRequest{Plan: &model.Plan{ProviderID: noopProvider, ProjectID: "demo",
			Resources: []model.Resource{a}}})
		if !errors.Is(err, engine.ErrInvalid) || !errors.Is(err, graph.ErrCycle) && !strings.Contains(err.Error(), "loop") {
			t.Fatalf("err %v, want a cycle error", err)
		}
	})
	t.Run("delete while protecting", func(t *testing.T) {
		v := res(volumeType, 9)
		plan := h.plan(t, []model.Resource{v}, model.Parameters{volumeType: {"delay_ms": "300"}})
		cp, err := h.app.Engine.Protect(ctx, engine.ProtectRequest{Plan: plan})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.app.Engine.Delete(ctx, noopProvider, cp.ID, protection.Scope{ProjectID: "demo"}, false)
		if !errors.Is(err, engine.ErrConflict) {
			t.Errorf("delete of a protecting checkpoint: %v, want ErrConflict", err)
		}
		h.wait(t)
		if got := h.checkpoint(t, noopProvider, cp.ID).Status; got != model.CheckpointAvailable {
			t.Errorf("status %s after the refused delete", got)
		}
	})
}

// TestHookFunctionOverHTTP dispatches every task through the hook function's
// HTTP handler, as OpenFaaS calls it, rather than in process.
func TestHookFunctionOverHTTP(t *testing.T) {
	var srv *httptest.Server
	h := newHarness(t, options{deliver: func(invoke.Func) invoke.Func {
		return func(ctx context.Context, p []byte) error {
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(p))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("hook function: %s", resp.Status)
			}
			return nil
		}
	}})
	srv = httptest.NewServer(hook.Handler(h.app.Engine, h.app.Log))
	defer srv.Close()
	root, all := threeLevel(h)
	cp := h.protect(t, h.plan(t, []model.Resource{root}, model.Parameters{}))
	if cp.Status != model.CheckpointAvailable || cp.Progress.ResourcesDone != int64(len(all)) {
		t.Fatalf("checkpoint %s: %+v", cp.Status, cp.Progress)
	}
	for _, tc := range []struct {
		method, body string
		want         int
	}{
		{http.MethodGet, "", http.StatusMethodNotAllowed},
		{http.MethodPost, "not json", http.StatusBadRequest},
		{http.MethodPost, `{"op": "00000000-0000-4000-8000-000000000000", "task": 0}`, http.StatusOK}, // unknown operation: dropped
	} {
		req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.method, tc.body, resp.StatusCode, tc.want)
		}
	}
}
