package faas

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/pouchdp/pouch/functions"
	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/runtime"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/redistest"
)

// protect plans resources of providerID in project through the API at base
// (an /function/api URL or pouch serve's root), creates a checkpoint and
// waits for its end; it returns the final checkpoint.
func protect(t *testing.T, base, project, providerID string, resources []any) map[string]any {
	t.Helper()
	var plan struct{ Plan struct{ ID string } }
	must(t, http.MethodPost, base+"/v1/"+project+"/plans", project, map[string]any{"plan": map[string]any{
		"name": "faas", "provider_id": providerID, "parameters": map[string]any{}, "resources": resources}}, &plan)
	var created struct{ Checkpoint struct{ ID, Status string } }
	cps := base + "/v1/" + project + "/providers/" + providerID + "/checkpoints"
	must(t, http.MethodPost, cps, project, map[string]any{"checkpoint": map[string]any{"plan_id": plan.Plan.ID}}, &created)
	if created.Checkpoint.Status != "protecting" {
		t.Errorf("checkpoint created %s, want protecting", created.Checkpoint.Status)
	}
	var cp struct{ Checkpoint map[string]any }
	waitFor(t, "checkpoint "+created.Checkpoint.ID, func() (string, bool) {
		must(t, http.MethodGet, cps+"/"+created.Checkpoint.ID, project, nil, &cp)
		st, _ := cp.Checkpoint["status"].(string)
		return st, st != "protecting"
	})
	return cp.Checkpoint
}

func servers(n int) []any {
	var rs []any
	for i := range n {
		rs = append(rs, map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), "type": "OS::Nova::Server", "name": fmt.Sprintf("vm%d", i+1)})
	}
	return rs
}

func directory(dir string) []any {
	return []any{map[string]any{"id": localdir.IDFor(dir), "type": localdir.ResourceType, "name": dir}}
}

// TestProtectThroughOpenFaaS: the engine dispatches hooks with the OpenFaaS
// invoker to the real local runtime on 127.0.0.1 (its /async-function/hook
// queue, or /function/hook), which runs the hook function; protects of the
// noop and the local directory providers end available, and every hook went
// through the runtime.
func TestProtectThroughOpenFaaS(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		callback bool
	}{
		{name: "async with callback", mode: invoke.ModeAsync, callback: true},
		{name: "async", mode: invoke.ModeAsync},
		{name: "sync", mode: invoke.ModeSync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := apitest.Logger()
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			provDir := filepath.Join(dir, "providers.d")
			if _, err := provider.WriteDefaults(provDir); err != nil {
				t.Fatal(err)
			}
			total := writeTree(t, filepath.Join(root, "app"))

			// The gateway's address is needed before the functions exist.
			mux := http.NewServeMux()
			gw := httptest.NewServer(mux)
			t.Cleanup(gw.Close)
			cfg := invoke.OpenFaaSConfig{Gateway: gw.URL, Mode: tt.mode, RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}
			var cb *callbacks
			if tt.callback {
				cb = newCallbacks(t)
				cfg.CallbackURL = cb.URL
			}
			inv, err := invoke.NewOpenFaaS(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(inv.Close)
			a, err := app.New(t.Context(), app.Config{
				RedisAddr: redistest.Addr(t), ProvidersDir: provDir,
				Env:    app.EnvWith(map[string]string{"POUCH_DATA_DIR": filepath.Join(dir, "data"), "POUCH_ALLOWED_ROOTS": root}),
				Engine: engine.Config{RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond},
			}, inv, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close() })
			p := runtime.New(functions.All(a, log), log, runtime.QueueWorkers(4))
			t.Cleanup(p.Close)
			mux.Handle("/", p.Handler())
			api := gw.URL + "/function/api"

			if cp := protect(t, api, "p1", noopProvider, servers(5)); cp["status"] != "available" {
				t.Errorf("noop checkpoint ended %v", cp)
			}
			cp := protect(t, api, "p1", dirProvider, directory(filepath.Join(root, "app")))
			if cp["status"] != "available" {
				t.Fatalf("directory checkpoint ended %v", cp)
			}
			if pr, _ := cp["progress"].(map[string]any); pr == nil || pr["bytes_done"] != float64(total) {
				t.Errorf("directory checkpoint progress %v, want %d bytes", cp["progress"], total)
			}

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, w := range []interface{ Wait(context.Context) error }{p, inv, p} {
				if err := w.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var hook types.FunctionStatus
			must(t, http.MethodGet, gw.URL+"/system/function/hook", "", nil, &hook)
			if hook.InvocationCount < 6 {
				t.Errorf("the hook function ran %v times through the runtime, want at least one per resource (6)", hook.InvocationCount)
			}
			if cb != nil {
				hs := cb.headers()
				if float64(len(hs)) != hook.InvocationCount {
					t.Errorf("%d callbacks for %v hook calls", len(hs), hook.InvocationCount)
				}
				for _, h := range hs {
					if h.Get("X-Function-Name") != "hook" || h.Get("X-Function-Status") != "200" || h.Get("X-Call-Id") == "" {
						t.Errorf("callback headers %v", h)
					}
				}
			}
		})
	}
}

// TestServeWithOpenFaaSInvoker: pouch serve -invoker openfaas dispatches
// hooks through its own /async-function/hook; a protect ends available.
func TestServeWithOpenFaaSInvoker(t *testing.T) {
	roots := t.TempDir()
	appDir := filepath.Join(roots, "app")
	total := writeTree(t, appDir)
	s := startServe(t, []string{"-invoker", "openfaas"}, "POUCH_ALLOWED_ROOTS="+roots, "POUCH_INVOKE_MODE=async")
	cp := protect(t, s.URL, "demo", dirProvider, directory(appDir))
	if cp["status"] != "available" {
		t.Fatalf("checkpoint ended %v", cp)
	}
	if pr, _ := cp["progress"].(map[string]any); pr == nil || pr["bytes_done"] != float64(total) {
		t.Errorf("progress %v, want %d bytes", cp["progress"], total)
	}
	var hook types.FunctionStatus
	must(t, http.MethodGet, s.URL+"/system/function/hook", "", nil, &hook)
	if hook.InvocationCount < 1 {
		t.Errorf("the hook function ran %v times through /async-function/hook", hook.InvocationCount)
	}
	if logs := s.Logs.String(); !strings.Contains(logs, "invoker=openfaas") {
		t.Errorf("pouch serve does not say it uses the openfaas invoker:\n%s", logs)
	}
	s.stop()
	if _, err := os.Stat(appDir); err != nil {
		t.Fatal(err)
	}
}
