package lambda

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/tests/treetest"
)

// writeTree writes a small directory with nested files, an empty file, a
// symlink and an 8 MiB file from a pseudo-random stream.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "etc/conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"etc/app.conf": "port = 80\n", "etc/conf.d/x.conf": "x = 1\n", "empty": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("etc/app.conf", filepath.Join(dir, "current.conf")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "data.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{'l'}), 8<<20+123); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestProtectThroughLambda protects a directory and restores it elsewhere
// with Pouch deployed as Lambda functions: the api function (one
// environment) starts each operation and dispatches its first tasks through
// the Lambda invoker to the Invoke API fake, which queues them to the hook
// function, served by three environments; each hook dispatches the tasks it
// makes ready the same way. All of them share one real redis-server and
// bank.
func TestProtectThroughLambda(t *testing.T) {
	d := deploy(t)
	api := d.function("api", 1)
	hook := d.function("hook", 3)
	app := filepath.Join(d.root, "app")
	writeTree(t, app)
	want := treetest.Snapshot(t, app)
	const project = "lambda"

	var plan struct{ Plan struct{ ID string } }
	must(t, api, "POST", "/v1/"+project+"/plans", project, map[string]any{"plan": map[string]any{
		"name": "app", "provider_id": dirProvider, "parameters": map[string]any{},
		"resources": []any{map[string]any{"id": localdir.IDFor(app), "type": localdir.ResourceType, "name": app}}}}, &plan)
	var created struct{ Checkpoint struct{ ID, Status string } }
	must(t, api, "POST", "/v1/"+project+"/providers/"+dirProvider+"/checkpoints", project,
		map[string]any{"checkpoint": map[string]any{"plan_id": plan.Plan.ID}}, &created)
	if created.Checkpoint.Status != "protecting" {
		t.Fatalf("checkpoint created %+v", created.Checkpoint)
	}
	type checkpoint struct {
		Status   string
		Progress struct {
			BytesDone int64 `json:"bytes_done"`
		}
	}
	var cp struct{ Checkpoint checkpoint }
	st := waitFor(t, "checkpoint", func() (string, bool) {
		must(t, api, "GET", "/v1/"+project+"/providers/"+dirProvider+"/checkpoints/"+created.Checkpoint.ID, project, nil, &cp)
		return cp.Checkpoint.Status, cp.Checkpoint.Status != "protecting"
	})
	if st != "available" {
		t.Fatalf("checkpoint ended %s: %+v", st, cp.Checkpoint)
	}
	if total := treetest.FileBytes(want); cp.Checkpoint.Progress.BytesDone != total {
		t.Errorf("checkpoint progress %d bytes, want %d", cp.Checkpoint.Progress.BytesDone, total)
	}
	protectTasks := hook.Served()
	if protectTasks == 0 || d.invokeAPI.Events() < protectTasks {
		t.Errorf("the hook function served %d tasks, the Invoke API queued %d: the hooks did not go through Lambda",
			protectTasks, d.invokeAPI.Events())
	}

	elsewhere := filepath.Join(d.root, "copy")
	var rs struct{ Restore struct{ ID string } }
	must(t, api, "POST", "/v1/"+project+"/restores", project, map[string]any{"restore": map[string]any{
		"provider_id": dirProvider, "checkpoint_id": created.Checkpoint.ID, "restore_target": nil, "restore_auth": nil,
		"parameters": map[string]any{localdir.ResourceType: map[string]any{"restore_path": elsewhere}}}}, &rs)
	var got struct{ Restore struct{ Status string } }
	st = waitFor(t, "restore", func() (string, bool) {
		must(t, api, "GET", "/v1/"+project+"/restores/"+rs.Restore.ID, project, nil, &got)
		return got.Restore.Status, got.Restore.Status != "in_progress"
	})
	if st != "success" {
		t.Fatalf("restore ended %s", st)
	}
	treetest.Compare(t, treetest.Snapshot(t, elsewhere), want)
	if hook.Served() <= protectTasks {
		t.Errorf("the restore's tasks did not reach the hook function (%d tasks in all)", hook.Served())
	}
	t.Logf("%d hook tasks through the Lambda invoker, %d Invoke API events", hook.Served(), d.invokeAPI.Events())
}
