package swift_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/treetest"
)

// benchSize is the file both sides move: 1 GiB, or POUCH_BENCH_MB MiB.
func benchSize(b *testing.B) int64 {
	if v := os.Getenv("POUCH_BENCH_MB"); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb <= 0 {
			b.Fatalf("POUCH_BENCH_MB=%q", v)
		}
		return int64(mb) << 20
	}
	return 1 << 30
}

// BenchmarkProtectVsSwiftCLI moves the same file into and out of the same
// Swift, in the same run: `swift upload --segment-size` and `swift
// download` against Pouch's protect (local directory into the Swift bank)
// and restore, through the API of the real binary. It reports MB/s of each
// and the ratios (target: Pouch >= 0.9 of the CLI).
func BenchmarkProtectVsSwiftCLI(b *testing.B) {
	size := benchSize(b)
	r := newRig(b, "")
	dir := r.directory(b, "bench", size)
	file := filepath.Join(dir, "big.bin")
	want := treetest.Snapshot(b, dir)
	s := r.start(b)
	sw := []string{"-A", r.sw.AuthURL, "-U", r.sw.User, "-K", r.sw.Key}
	cliContainer := r.container + "-cli"
	mb := float64(size) / 1e6
	var cliUp, cliDown, pouchUp, pouchDown time.Duration
	for i := range b.N {
		// The swift CLI: upload in 8 MiB segments (Pouch's chunk size), download.
		cliUp += timeCmd(b, "swift", append(sw, "upload", "--segment-size", "8388608", "--object-name",
			"big-"+strconv.Itoa(i), cliContainer, file)...)
		got := filepath.Join(b.TempDir(), "cli.bin")
		cliDown += timeCmd(b, "swift", append(sw, "download", "-o", got, cliContainer, "big-"+strconv.Itoa(i))...)
		os.Remove(got)

		// Pouch: protect the directory, then restore it elsewhere.
		start := time.Now()
		id := r.protect(b, s, dir)
		st := pouchtest.WaitFor(b, "protect", 10*time.Minute, func() (string, bool) {
			c := r.checkpoint(b, s, id)
			return c.Status, c.Status != "protecting"
		})
		pouchUp += time.Since(start)
		if st != "available" {
			b.Fatalf("protect ended %s", st)
		}
		target := filepath.Join(r.root, "restored-"+strconv.Itoa(i))
		start = time.Now()
		var rs struct{ Restore struct{ ID string } }
		s.Must(b, http.MethodPost, "/v1/"+project+"/restores", project, map[string]any{"restore": map[string]any{
			"provider_id": r.provider, "checkpoint_id": id,
			"parameters":     map[string]any{localdir.ResourceType: map[string]any{"restore_path": target}},
			"restore_target": nil, "restore_auth": nil}}, &rs)
		st = pouchtest.WaitFor(b, "restore", 10*time.Minute, func() (string, bool) {
			var out struct{ Restore struct{ Status string } }
			s.Must(b, http.MethodGet, "/v1/"+project+"/restores/"+rs.Restore.ID, project, nil, &out)
			return out.Restore.Status, out.Restore.Status != "in_progress"
		})
		pouchDown += time.Since(start)
		if st != "success" {
			b.Fatalf("restore ended %s", st)
		}
		b.StopTimer()
		treetest.Compare(b, treetest.Snapshot(b, target), want)
		os.RemoveAll(target)
		b.StartTimer()
	}
	n := float64(b.N)
	rate := func(d time.Duration) float64 { return mb * n / d.Seconds() }
	b.ReportMetric(rate(cliUp), "cli-up-MB/s")
	b.ReportMetric(rate(pouchUp), "pouch-up-MB/s")
	b.ReportMetric(cliUp.Seconds()/pouchUp.Seconds(), "up-ratio")
	b.ReportMetric(rate(cliDown), "cli-down-MB/s")
	b.ReportMetric(rate(pouchDown), "pouch-down-MB/s")
	b.ReportMetric(cliDown.Seconds()/pouchDown.Seconds(), "down-ratio")
}

// timeCmd runs a command and returns how long it took.
func timeCmd(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return time.Since(start)
}
