package openstack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// imageBenchProvider protects images into a Swift bank in 64 MiB objects.
const imageBenchProvider = "8e3a61d4-2f7c-4b90-a5e1-9c0d7b4f2a36"

// imageBenchMB is the benchmark image's size: POUCH_BENCH_MB MiB, 1024 by
// default.
func imageBenchMB(b *testing.B) int64 {
	mb := int64(1024)
	if v := os.Getenv("POUCH_BENCH_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("POUCH_BENCH_MB=%q", v)
		}
		mb = n
	}
	return mb
}

// BenchmarkImageProtectVsCLI copies the same Glance image of random data
// into the same Swift, in the same run: Pouch's protect (the image plugin
// into the Swift bank, 64 MiB objects), timed from the checkpoint's
// creation to available, against the CLI's way, `openstack image save`
// then `swift upload --segment-size 67108864`, timed together. It reports
// MB/s of each and cli-s/pouch-s (above 1: Pouch is faster).
// POUCH_BENCH_SWIFT_BANK adds lines to the bank's [swift_bank_plugin]
// section (e.g. "segment_size = 134217728").
func BenchmarkImageProtectVsCLI(b *testing.B) {
	mb := imageBenchMB(b)
	size := mb << 20
	s := openstacktest.Start(b)
	sw := swifttest.Start(b)
	container := "image-bench-" + uuid.NewString()[:8]
	env := s.ProviderEnv()
	e := apitest.New(b, apitest.Options{Env: env, Providers: map[string]string{"image-bench.conf": imageProviderConf(
		imageBenchProvider, 64<<20, "bank = pouch-swift-bank-plugin", sw.ProviderConf(container, os.Getenv("POUCH_BENCH_SWIFT_BANK")))}})
	project := s.Env["DEMO_PROJECT_ID"]
	call := func(method, path string, body any) *apitest.Response {
		b.Helper()
		return e.Do(b, "demo:"+project, method, "/v1/"+project+"/"+path, body).OK(b)
	}

	sc := imageGlance(b, s)
	start := time.Now()
	im := imageCreate(b, sc, images.CreateOpts{Name: openstacktest.Name(b, "image-bench"), DiskFormat: "raw",
		ContainerFormat: "bare"}, imageRandom(5, size))
	b.Logf("%d MiB image %s uploaded to Glance in %s", mb, im.ID, time.Since(start).Round(time.Millisecond))

	plan := call("POST", "plans", obj{"plan": obj{"name": "image-bench", "provider_id": imageBenchProvider, "parameters": obj{},
		"resources": []model.Resource{{ID: im.ID, Type: openstack.TypeImage, Name: im.Name}}}}).Str(b, "plan", "id")
	cps := "providers/" + imageBenchProvider + "/checkpoints"
	waitCheckpoint := func(id string, final ...string) string {
		b.Helper()
		deadline := time.Now().Add(30 * time.Minute)
		for {
			st := call("GET", cps+"/"+id, nil).Str(b, "checkpoint", "status")
			for _, f := range final {
				if st == f {
					return st
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("checkpoint %s still %s", id, st)
			}
			time.Sleep(250 * time.Millisecond) // each GET reads the checkpoint from Swift
		}
	}
	file := filepath.Join(b.TempDir(), "image.raw")
	// swift reads OS_* before -A: only openstack gets the demo user's.
	var swiftEnv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			swiftEnv = append(swiftEnv, kv)
		}
	}
	osEnv := slices.Clone(swiftEnv)
	for k, v := range env {
		osEnv = append(osEnv, k+"="+v)
	}
	sw1 := []string{"-A", sw.AuthURL, "-U", sw.User, "-K", sw.Key}
	wantObjects := int((size + 64<<20 - 1) / (64 << 20))

	var pouchTime, cliTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		cp := call("POST", cps, obj{"checkpoint": obj{"plan_id": plan}}).Str(b, "checkpoint", "id")
		st := waitCheckpoint(cp, model.CheckpointAvailable, model.CheckpointError)
		pouchTime += time.Since(start)
		if st != model.CheckpointAvailable {
			b.Fatalf("checkpoint %s: %s", cp, st)
		}

		start = time.Now()
		imageCLI(b, osEnv, "openstack", "image", "save", "--file", file, im.ID)
		imageCLI(b, swiftEnv, "swift", append(sw1, "upload", "--segment-size", "67108864", "--object-name",
			"cli-"+strconv.Itoa(i), container+"-cli", file)...)
		cliTime += time.Since(start)

		b.StopTimer()
		if n := len(sw.Objects(b, container, strings.TrimPrefix(protection.ResourceDataKey(cp, im.ID, "data_"), "/"))); n != wantObjects {
			b.Errorf("%d data objects in the bank, want %d", n, wantObjects)
		}
		if fi, err := os.Stat(file); err != nil || fi.Size() != size {
			b.Fatalf("openstack image save: %v", err)
		}
		os.Remove(file)
		imageCLI(b, swiftEnv, "swift", append(sw1, "delete", container+"-cli", "cli-"+strconv.Itoa(i))...)
		call("DELETE", cps+"/"+cp, nil)
		waitCheckpoint(cp, model.CheckpointDeleted)
		b.StartTimer()
	}
	rate := func(d time.Duration) float64 { return float64(size) * float64(b.N) / 1e6 / d.Seconds() }
	b.ReportMetric(rate(pouchTime), "pouch-MB/s")
	b.ReportMetric(rate(cliTime), "cli-MB/s")
	b.ReportMetric(cliTime.Seconds()/pouchTime.Seconds(), "cli-s/pouch-s")
}

// imageCLI runs a command with env, failing b on error.
func imageCLI(b *testing.B, env []string, name string, args ...string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
