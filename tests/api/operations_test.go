package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/shared/model"
)

func verificationBody(providerID, checkpointID string, params obj) obj {
	v := obj{"provider_id": providerID, "checkpoint_id": checkpointID}
	if params != nil {
		v["parameters"] = params
	}
	return obj{"verification": v}
}

// TestVerifications verifies a directory's checkpoint, then corrupts one
// of its chunks in the bank: the next verification fails on that resource.
func TestVerifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := filepath.Join(e.Root, "v")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), bytes.Repeat([]byte("pouch"), 1000), 0o640); err != nil {
		t.Fatal(err)
	}
	res := localdir.ResourceFor(dir)
	cp := e.checkpoint(t, dirProvider, e.plan(t, "v", dirProvider, res))

	r := e.do(t, "POST", "verifications", verificationBody(dirProvider, cp, nil)).OK(t)
	id := r.Str(t, "verification", "id")
	if r.Str(t, "verification", "status") != "in_progress" || r.Str(t, "verification", "checkpoint_id") != cp {
		t.Errorf("created verification: %s", r.Raw)
	}
	r = e.waitStatus(t, "verifications/"+id, "verification", "success")
	if st := r.Str(t, "verification", "resources_status", res.StatusKey()); st != "available" {
		t.Errorf("verified resource status %q: %s", st, r.Raw)
	}
	if got := e.do(t, "GET", "verifications", nil).OK(t).IDs(t, "verifications"); !slices.Contains(got, id) {
		t.Errorf("verification %s not listed: %v", id, got)
	}

	// Corrupt every data chunk of the checkpoint in the bank.
	var chunks []string
	for _, c := range findFiles(t, e.DataDir, "data_") {
		if strings.Contains(c, cp) {
			chunks = append(chunks, c)
		}
	}
	if len(chunks) == 0 {
		t.Fatalf("no chunk of checkpoint %s under %s", cp, e.DataDir)
	}
	for _, c := range chunks {
		if err := os.WriteFile(c, []byte("corrupt"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	id = e.do(t, "POST", "verifications", verificationBody(dirProvider, cp, obj{})).OK(t).Str(t, "verification", "id")
	r = e.waitStatus(t, "verifications/"+id, "verification", "fail")
	if reason := r.Str(t, "verification", "resources_reason", res.StatusKey()); reason == "" {
		t.Errorf("no reason for the corrupt resource: %s", r.Raw)
	}

	// A verification that cannot start is a failed verification (200).
	r = e.do(t, "POST", "verifications", verificationBody(dirProvider, "6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11", nil)).OK(t)
	if r.Str(t, "verification", "status") != "fail" {
		t.Errorf("verification of an unknown checkpoint: %s", r.Raw)
	}
	e.do(t, "POST", "verifications", verificationBody("not-a-uuid", cp, nil)).Fault(t, 400, "provider_id")
	e.do(t, "GET", "verifications/not-a-uuid", nil).Fault(t, 400)
	e.do(t, "GET", "verifications/6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11", nil).Fault(t, 404)
}

// findFiles lists files under dir whose base name starts with prefix.
func findFiles(t *testing.T, dir, prefix string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(info.Name(), prefix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestCopy copies a directory's checkpoints, deletes the originals and
// restores from a copy, byte for byte.
func TestCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := filepath.Join(e.Root, "c")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"a": "alpha", "sub/b": strings.Repeat("beta", 5000), "empty": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	want := tree(t, dir)
	res := localdir.ResourceFor(dir)
	planID := e.plan(t, "c", dirProvider, res)
	base := "providers/" + dirProvider + "/checkpoints"
	copyPath := base + "/action"

	e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": planID, "parameters": obj{}}}).Fault(t, 400, "not been protected")
	cp1 := e.checkpoint(t, dirProvider, planID)
	cp2 := e.checkpoint(t, dirProvider, planID)

	r := e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": planID, "parameters": obj{}}}).OK(t)
	if r.Str(t, "copy", "plan_id") != planID || r.Str(t, "copy", "provider_id") != dirProvider {
		t.Errorf("copy: %s", r.Raw)
	}
	pairs := r.List(t, "copy", "checkpoint_id")
	if len(pairs) != 2 {
		t.Fatalf("copy pairs %s, want 2", r.Raw)
	}
	copies := map[string]string{}
	for _, p := range pairs {
		m := p.(map[string]any)
		copies[m["checkpoint_protect_id"].(string)] = m["checkpoint_copy_id"].(string)
	}
	for _, src := range []string{cp1, cp2} {
		c := copies[src]
		if c == "" || c == src {
			t.Fatalf("no copy of %s: %s", src, r.Raw)
		}
		got := e.waitStatus(t, base+"/"+c, "checkpoint", model.CheckpointAvailable)
		if x := jsonString(t, got, "checkpoint", "extra_info").(map[string]any); x["copy_status"] != "finished" || x["copy_from"] != src {
			t.Errorf("copy %s extra_info %v", c, x)
		}
	}
	e.settle(t)

	// Copies are not copied again; the originals are.
	r = e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": planID, "parameters": obj{}}}).OK(t)
	if n := len(r.List(t, "copy", "checkpoint_id")); n != 2 {
		t.Errorf("second copy made %d copies, want 2 (of the originals only): %s", n, r.Raw)
	}
	e.settle(t)

	// The copy stands alone: delete its original and the directory, restore.
	e.do(t, "DELETE", base+"/"+cp1, nil).OK(t)
	e.waitStatus(t, base+"/"+cp1, "checkpoint", model.CheckpointDeleted)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	id := e.do(t, "POST", "restores", restoreBody(dirProvider, copies[cp1])).OK(t).Str(t, "restore", "id")
	e.waitStatus(t, "restores/"+id, "restore", "success")
	sameTree(t, tree(t, dir), want)

	other := e.plan(t, "other", noopProvider, server(1))
	e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": other, "parameters": obj{}}}).Fault(t, 400, "provider")
	e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": "6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11", "parameters": obj{}}}).Fault(t, 404)
	e.do(t, "POST", copyPath, obj{"copy": obj{"plan_id": planID}}).Fault(t, 400, "parameters")
}

func TestResetState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := "providers/" + noopProvider + "/checkpoints"
	reset := func(id, state string) *response {
		return e.do(t, "PUT", base+"/"+id, obj{"os-resetState": obj{"state": state}})
	}
	// A checkpoint whose protection failed can be set available by hand,
	// and back to error.
	failing := e.do(t, "POST", "plans", obj{"plan": obj{"name": "f", "provider_id": noopProvider,
		"parameters": obj{serverType: obj{"fail_hook": "on_main"}}, "resources": []model.Resource{server(1)}}}).OK(t).Str(t, "plan", "id")
	id := e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": failing}}).OK(t).Str(t, "checkpoint", "id")
	e.waitStatus(t, base+"/"+id, "checkpoint", model.CheckpointError)
	if r := reset(id, "available").OK(t); len(r.Body) != 0 {
		t.Errorf("reset body %s, want {}", r.Raw)
	}
	if st := e.do(t, "GET", base+"/"+id, nil).OK(t).Str(t, "checkpoint", "status"); st != "available" {
		t.Errorf("after reset: %s", st)
	}
	reset(id, "error").OK(t)
	reset(id, "deleted").Fault(t, 400, "state")

	// A protecting checkpoint cannot be reset; a deleted one neither.
	slow := e.do(t, "POST", "plans", obj{"plan": obj{"name": "s", "provider_id": noopProvider,
		"parameters": obj{serverType: obj{"delay_ms": 400}}, "resources": []model.Resource{server(2)}}}).OK(t).Str(t, "plan", "id")
	busy := e.do(t, "POST", base, obj{"checkpoint": obj{"plan_id": slow}}).OK(t).Str(t, "checkpoint", "id")
	reset(busy, "error").Fault(t, 400, "protecting")
	e.waitStatus(t, base+"/"+busy, "checkpoint", model.CheckpointAvailable)
	e.do(t, "DELETE", base+"/"+id, nil).OK(t)
	e.waitStatus(t, base+"/"+id, "checkpoint", model.CheckpointDeleted)
	e.settle(t)
	reset(id, "available").Fault(t, 400, "deleted")

	reset("6b1c7e43-2b8e-4c59-9d0f-3f1f8b0f2a11", "error").Fault(t, 404)
	e.do(t, "PUT", base+"/"+busy, obj{"os-resetState": obj{"state": "available", "x": 1}}).Fault(t, 400)
	e.do(t, "PUT", base+"/"+busy, obj{"state": "available"}).Fault(t, 400)
}
