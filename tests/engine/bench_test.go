package engine_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/model"
)

// bigCloud is a project with 1,111 servers of 8 volumes each: 10,000
// resources, 40,000 hook tasks.
func bigCloud(h *harness) model.Resource {
	p := res(projectType, 0)
	servers := map[string][]model.Resource{}
	volumes := map[string][]model.Resource{}
	n := 1
	for range 1111 {
		s := res(serverType, n)
		n++
		servers[p.ID] = append(servers[p.ID], s)
		for range 8 {
			volumes[s.ID] = append(volumes[s.ID], res(volumeType, n))
			n++
		}
	}
	h.app.Catalog.Add(inventory{typ: serverType, parents: []string{projectType}, deps: servers})
	h.app.Catalog.Add(inventory{typ: volumeType, parents: []string{serverType}, deps: volumes})
	return p
}

// BenchmarkProtect10k protects 10,000 noop resources on a real redis-server
// with the in-process invoker: time per checkpoint, tasks per second and
// Redis round trips per task (everything: start, hooks, finish).
func BenchmarkProtect10k(b *testing.B) {
	workers := 16
	if w, err := strconv.Atoi(getenv("POUCH_BENCH_WORKERS")); err == nil {
		workers = w
	}
	h := newHarness(b, options{workers: workers})
	root := bigCloud(h)
	var tasks, trips int64
	var took time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		plan := h.plan(b, []model.Resource{root}, model.Parameters{})
		h.rec.Reset()
		h.hook.Reset()
		b.StartTimer()
		start := time.Now()
		cp := h.protect(b, plan)
		took += time.Since(start)
		b.StopTimer()
		if cp.Status != model.CheckpointAvailable || cp.Progress.ResourcesDone != 10000 || cp.Progress.TasksDone != 40000 {
			b.Fatalf("checkpoint %s: %+v", cp.Status, cp.Progress)
		}
		tasks += cp.Progress.TasksDone
		trips += h.hook.RoundTrips()
		b.StartTimer()
	}
	b.ReportMetric(float64(tasks)/took.Seconds(), "tasks/s")
	b.ReportMetric(float64(trips)/float64(tasks), "roundtrips/task")
	b.ReportMetric(took.Seconds()/float64(b.N), "s/checkpoint")
}
