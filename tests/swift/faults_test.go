package swift_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/redistest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// sloChunks: 4 MiB segments, so that each 8 MiB chunk is a static large
// object and the faults hit segments and manifests too.
const sloChunks = "segment_size = 4194304\n"

func TestMain(m *testing.M) {
	code := m.Run()
	pouchtest.Cleanup()
	os.Exit(code)
}

const project = "demo"

// rig is Pouch's binary on a real Swift and a real redis-server: a provider
// protecting directories under root, in 8 MiB chunks, into a container of
// its own. bankConf adds to the bank's section (e.g. a segment size).
type rig struct {
	sw        *swifttest.Swift
	container string
	provider  string
	root      string
	args      []string
	bank      bank.Bank // the same container, through a client of the test's own
}

func newRig(t testing.TB, bankConf string, args ...string) *rig {
	sw := swifttest.Start(t)
	r := &rig{sw: sw, container: sw.Config().Container, provider: uuid.NewString(), root: t.TempDir()}
	provDir := t.TempDir()
	conf := "[provider]\nname = Directories into Swift\nid = " + r.provider +
		"\nplugin = pouch-local-directory-plugin\nbank = pouch-swift-bank-plugin\nenabled = True\n\n" +
		sw.ProviderConf(r.container, bankConf) +
		"\n[local_directory_plugin]\nallowed_roots = " + r.root + "\nchunk_size = 8388608\n"
	if err := os.WriteFile(filepath.Join(provDir, "swift.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := sw.Config()
	cfg.Container = r.container
	r.bank = sw.Bank(t, cfg)
	r.args = append([]string{"-data-dir", t.TempDir(), "-providers-dir", provDir, "-redis", redistest.Addr(t)}, args...)
	return r
}

// start runs a pouch serve of the rig; it is killed at the end of the test.
func (r *rig) start(t testing.TB) *pouchtest.Server {
	t.Helper()
	s := pouchtest.Start(t, r.args)
	t.Cleanup(func() {
		if s.Cmd.ProcessState == nil {
			s.Cmd.Process.Kill()
			s.Cmd.Wait()
		}
		if t.Failed() {
			t.Logf("pouch serve (pid %d) log:\n%s", s.Cmd.Process.Pid, s.Logs.String())
		}
	})
	return s
}

// directory writes dir with one file of size pseudo-random bytes.
func (r *rig) directory(t testing.TB, name string, size int64) string {
	t.Helper()
	dir := filepath.Join(r.root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{4}), size); err != nil {
		t.Fatal(err)
	}
	return dir
}

// protect plans dir and starts a checkpoint of it; it returns its id.
func (r *rig) protect(t testing.TB, s *pouchtest.Server, dir string) string {
	t.Helper()
	var plan struct{ Plan struct{ ID string } }
	s.Must(t, http.MethodPost, "/v1/"+project+"/plans", project, map[string]any{"plan": map[string]any{
		"name": filepath.Base(dir), "provider_id": r.provider, "parameters": map[string]any{},
		"resources": []any{map[string]any{"id": localdir.IDFor(dir), "type": localdir.ResourceType, "name": dir}}}}, &plan)
	var cp struct{ Checkpoint struct{ ID string } }
	s.Must(t, http.MethodPost, "/v1/"+project+"/providers/"+r.provider+"/checkpoints", project,
		map[string]any{"checkpoint": map[string]any{"plan_id": plan.Plan.ID}}, &cp)
	return cp.Checkpoint.ID
}

type checkpointView struct {
	Status          string
	ExtraInfo       string            `json:"extra_info"`
	ResourcesReason map[string]string `json:"resources_reason"`
}

func (r *rig) checkpoint(t testing.TB, s *pouchtest.Server, id string) checkpointView {
	t.Helper()
	var out struct{ Checkpoint checkpointView }
	s.Must(t, http.MethodGet, "/v1/"+project+"/providers/"+r.provider+"/checkpoints/"+id, project, nil, &out)
	return out.Checkpoint
}

func (r *rig) dataKeys(t testing.TB, id string) []string {
	t.Helper()
	keys, err := r.bank.List(t.Context(), bank.ListOptions{Prefix: checkpoint.DataPrefix(id) + "resource-data/"})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// tick invokes the tick function as the cron connector does.
func tick(t testing.TB, s *pouchtest.Server) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/function/tick", nil)
	req.Header.Set("X-Connector", "cron-connector")
	req.Header.Set("X-Topic", "cron-function")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tick: %d %s", resp.StatusCode, body)
	}
}

// TestKillMidProtect: the process running a protect is killed (SIGKILL)
// while the data goes up. Another instance's tick, once the operation's
// lease has expired, moves the checkpoint to error with the reason, and the
// plugin's delete hooks remove the partial data, segments included.
func TestKillMidProtect(t *testing.T) {
	const ttl = 4 * time.Second
	r := newRig(t, sloChunks, "-lease-ttl", ttl.String(), "-lease-renew", "1s")
	dir := r.directory(t, "app", 200<<20)
	a := r.start(t)
	id := r.protect(t, a, dir)
	pouchtest.WaitFor(t, "partial upload", time.Minute, func() (string, bool) {
		n := len(r.dataKeys(t, id))
		return strings.Repeat("+", n), n >= 4
	})
	if err := a.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Cmd.Wait()
	killed := time.Now()
	if len(r.dataKeys(t, id)) == 0 {
		t.Fatal("no partial data to clean: the kill came too late to test anything")
	}
	b := r.start(t)
	// Until the lease expires nothing may touch it (b's own cron connector
	// may tick on a minute boundary: only once the lease is gone can that
	// reap it, so the check holds only while the lease lives).
	if st := r.checkpoint(t, b, id).Status; st != "protecting" && time.Since(killed) < ttl {
		t.Fatalf("right after the kill the checkpoint is %s, want protecting", st)
	}

	var index struct {
		OwnerID string `json:"owner_id"`
	}
	if err := bank.GetJSON(t.Context(), r.bank, checkpoint.DataPrefix(id)+"index.json", &index); err != nil {
		t.Fatal(err)
	}
	pouchtest.WaitFor(t, "lease expiry", 2*ttl, func() (string, bool) {
		valid, err := r.bank.LeaseValid(t.Context(), index.OwnerID)
		if err != nil {
			t.Fatal(err)
		}
		return "valid", !valid
	})
	t.Logf("lease of %s gone %s after the kill", index.OwnerID, time.Since(killed).Round(time.Millisecond))
	tick(t, b) // one tick
	cp := r.checkpoint(t, b, id)
	if cp.Status != "error" || !strings.Contains(cp.ResourcesReason["operation"], "lease expired") {
		t.Fatalf("after one tick: %s %v", cp.Status, cp.ResourcesReason)
	}
	st := pouchtest.WaitFor(t, "cleanup", 2*time.Minute, func() (string, bool) {
		var extra map[string]any
		json.Unmarshal([]byte(r.checkpoint(t, b, id).ExtraInfo), &extra)
		s, _ := extra[engine.CleanupStatusKey].(string)
		return s, s != engine.CleanupRunning && s != ""
	})
	if st != engine.CleanupDone {
		t.Fatalf("cleanup ended %q", st)
	}
	if keys := r.dataKeys(t, id); len(keys) != 0 {
		t.Errorf("partial data left: %v", keys)
	}
	if segs := r.sw.Objects(t, r.container+"_segments", strings.TrimPrefix(checkpoint.DataPrefix(id), "/")); len(segs) != 0 {
		t.Errorf("segments left: %d, e.g. %s", len(segs), segs[0])
	}
}

// TestProxyRestartDuringUpload: the Swift proxy is killed and started again
// while a protect uploads. The requests that failed are retried; the
// checkpoint ends available, a verification reads every chunk back and
// checks it, and a restore gives the same bytes.
func TestProxyRestartDuringUpload(t *testing.T) {
	r := newRig(t, sloChunks)
	dir := r.directory(t, "app", 300<<20)
	s := r.start(t)
	id := r.protect(t, s, dir)
	pouchtest.WaitFor(t, "upload under way", time.Minute, func() (string, bool) {
		n := len(r.dataKeys(t, id))
		return strings.Repeat("+", n), n >= 3
	})
	r.sw.RestartProxy(t, "-KILL")
	st := pouchtest.WaitFor(t, "checkpoint", 5*time.Minute, func() (string, bool) {
		// The API reads checkpoints from the bank: while the proxy is down
		// it may answer 503 (never 500).
		var out struct{ Checkpoint checkpointView }
		code := s.Call(t, http.MethodGet, "/v1/"+project+"/providers/"+r.provider+"/checkpoints/"+id, project, nil, &out)
		if code != http.StatusOK {
			if code != http.StatusServiceUnavailable {
				t.Errorf("checkpoint show during the outage: HTTP %d, want 200 or 503", code)
			}
			return fmt.Sprintf("HTTP %d", code), false
		}
		return out.Checkpoint.Status, out.Checkpoint.Status != "protecting"
	})
	if st != "available" {
		t.Fatalf("checkpoint ended %s: %+v", st, r.checkpoint(t, s, id))
	}
	if !strings.Contains(s.Logs.String(), "swift request failed, retrying") {
		t.Errorf("no request was retried: the proxy restart did not hit the upload")
	}
	var v struct{ Verification struct{ ID string } }
	s.Must(t, http.MethodPost, "/v1/"+project+"/verifications", project, map[string]any{"verification": map[string]any{
		"provider_id": r.provider, "checkpoint_id": id, "parameters": map[string]any{}}}, &v)
	vst := pouchtest.WaitFor(t, "verification", 5*time.Minute, func() (string, bool) {
		var out struct{ Verification struct{ Status string } }
		s.Must(t, http.MethodGet, "/v1/"+project+"/verifications/"+v.Verification.ID, project, nil, &out)
		return out.Verification.Status, out.Verification.Status != "in_progress"
	})
	if vst != "success" {
		t.Fatalf("verification ended %s", vst)
	}
}
