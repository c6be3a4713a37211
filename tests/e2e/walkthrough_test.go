package e2e

import (
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/tests/treetest"
)

const dirProvider = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"

// buildApp writes the directory the walkthrough protects: nested
// directories, an empty file and directory, symlinks (relative, absolute,
// dangling) and a 200 MB file written from a pseudo-random stream.
func buildApp(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{"etc/conf.d", "data/empty-dir", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"etc/app.conf": "port = 80\n", "etc/conf.d/extra.conf": "x = 1\n", "logs/empty.log": ""}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"current.conf": "etc/app.conf", "abs-link": filepath.Join(dir, "etc"), "dangling": "no/such/file"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "data/big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{7}), 200<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type checkpointView struct {
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	ResourceGraph   string            `json:"resource_graph"`
	ExtraInfo       string            `json:"extra_info"`
	ResourcesStatus map[string]string `json:"resources_status"`
	Progress        struct {
		BytesDone  int64 `json:"bytes_done"`
		BytesTotal int64 `json:"bytes_total"`
	} `json:"progress"`
}

func (s *server) checkpoint(project, id string) checkpointView {
	var out struct{ Checkpoint checkpointView }
	s.must(http.MethodGet, "/v1/"+project+"/providers/"+dirProvider+"/checkpoints/"+id, project, nil, &out)
	return out.Checkpoint
}

// restore restores a checkpoint, waits for success and checks that the
// restore reports wantBytes of progress.
func (s *server) restore(t *testing.T, project, checkpointID string, params map[string]any, wantBytes int64) {
	t.Helper()
	var rs struct{ Restore struct{ ID, Status string } }
	s.must(http.MethodPost, "/v1/"+project+"/restores", project, map[string]any{"restore": map[string]any{
		"provider_id": dirProvider, "checkpoint_id": checkpointID, "parameters": params,
		"restore_target": nil, "restore_auth": nil}}, &rs)
	var got struct {
		Restore struct {
			Status   string
			Progress struct {
				BytesDone      int64 `json:"bytes_done"`
				ResourcesDone  int64 `json:"resources_done"`
				ResourcesTotal int64 `json:"resources_total"`
			}
		}
	}
	st := waitFor(t, "restore", func() (string, bool) {
		s.must(http.MethodGet, "/v1/"+project+"/restores/"+rs.Restore.ID, project, nil, &got)
		return got.Restore.Status, got.Restore.Status != "in_progress"
	})
	if st != "success" {
		t.Fatalf("restore ended %s", st)
	}
	if p := got.Restore.Progress; p.BytesDone != wantBytes || p.ResourcesDone != 1 || p.ResourcesTotal != 1 {
		t.Errorf("restore progress %+v, want %d bytes and 1 of 1 resources", p, wantBytes)
	}
}

// TestWalkthrough is README's walkthrough against the real binary: plan a
// directory, checkpoint it, delete the directory, restore it and compare
// byte for byte; then restart Pouch and restore again, elsewhere.
func TestWalkthrough(t *testing.T) {
	roots := t.TempDir()
	appDir := filepath.Join(roots, "app")
	buildApp(t, appDir)
	want := treetest.Snapshot(t, appDir)
	dataDir := t.TempDir()
	env := "POUCH_ALLOWED_ROOTS=" + roots
	s := start(t, dataDir, env)
	const project = "demo"

	var inst struct{ Instances []struct{ ID, Name string } }
	s.must(http.MethodGet, "/v1/demo/protectables/"+localdir.ResourceType+"/instances", project, nil, &inst)
	i := slices.IndexFunc(inst.Instances, func(x struct{ ID, Name string }) bool { return x.Name == appDir })
	if i < 0 || inst.Instances[i].ID != localdir.IDFor(appDir) {
		t.Fatalf("instances %+v: no %s with id %s", inst.Instances, appDir, localdir.IDFor(appDir))
	}
	var plan struct{ Plan struct{ ID, Status string } }
	s.must(http.MethodPost, "/v1/demo/plans", project, map[string]any{"plan": map[string]any{
		"name": "app", "provider_id": dirProvider, "parameters": map[string]any{},
		"resources": []any{map[string]any{"id": inst.Instances[i].ID, "type": localdir.ResourceType, "name": appDir}}}}, &plan)

	var created struct{ Checkpoint checkpointView }
	s.must(http.MethodPost, "/v1/demo/providers/"+dirProvider+"/checkpoints", project,
		map[string]any{"checkpoint": map[string]any{"plan_id": plan.Plan.ID, "extra-info": map[string]any{"why": "e2e"}}}, &created)
	cpID := created.Checkpoint.ID
	if created.Checkpoint.Status != "protecting" || !strings.HasPrefix(created.Checkpoint.ResourceGraph, "[") {
		t.Errorf("create answered %+v", created.Checkpoint)
	}
	st := waitFor(t, "checkpoint", func() (string, bool) {
		c := s.checkpoint(project, cpID)
		return c.Status, c.Status != "protecting"
	})
	cp := s.checkpoint(project, cpID)
	if st != "available" {
		t.Fatalf("checkpoint ended %s: %+v", st, cp)
	}
	total := treetest.FileBytes(want)
	if cp.Progress.BytesDone != total || cp.Progress.BytesTotal != total {
		t.Errorf("progress %+v, want %d bytes done of %d", cp.Progress, total, total)
	}
	if cp.ExtraInfo != `{"why":"e2e"}` {
		t.Errorf("extra_info %q", cp.ExtraInfo)
	}

	treetest.RemoveAll(t, appDir)
	s.restore(t, project, cpID, map[string]any{}, total)
	treetest.Compare(t, treetest.Snapshot(t, appDir), want)

	// Everything survives a restart: Redis (AOF) and the bank.
	s.stop()
	s = start(t, dataDir, env)
	var list struct{ Checkpoints []checkpointView }
	s.must(http.MethodGet, "/v1/demo/providers/"+dirProvider+"/checkpoints?plan_id="+plan.Plan.ID, project, nil, &list)
	if len(list.Checkpoints) != 1 || list.Checkpoints[0].ID != cpID || list.Checkpoints[0].Status != "available" {
		t.Fatalf("after restart: %+v", list.Checkpoints)
	}
	s.must(http.MethodGet, "/v1/demo/plans/"+plan.Plan.ID, project, nil, nil)
	elsewhere := filepath.Join(roots, "copy")
	s.restore(t, project, cpID, map[string]any{localdir.ResourceType: map[string]any{"restore_path": elsewhere}}, total)
	treetest.Compare(t, treetest.Snapshot(t, elsewhere), want)

	// Delete: the data goes, the metadata stays readable as deleted.
	var empty map[string]any
	s.must(http.MethodDelete, "/v1/demo/providers/"+dirProvider+"/checkpoints/"+cpID, project, nil, &empty)
	waitFor(t, "delete", func() (string, bool) {
		c := s.checkpoint(project, cpID)
		return c.Status, c.Status == "deleted"
	})
	var left []string
	filepath.WalkDir(filepath.Join(dataDir, "bank"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, cpID) {
			left = append(left, filepath.Base(p))
		}
		return nil
	})
	if !slices.Equal(left, []string{"index.json"}) {
		t.Errorf("after delete the bank holds %v of the checkpoint, want only index.json", left)
	}
	s.must(http.MethodGet, "/v1/demo/providers/"+dirProvider+"/checkpoints", project, nil, &list)
	if len(list.Checkpoints) != 0 {
		t.Errorf("deleted checkpoint still listed: %+v", list.Checkpoints)
	}
	s.stop()
}
