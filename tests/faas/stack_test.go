package faas

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	sdk "github.com/openfaas/go-sdk"
)

const namespace = "openfaas-fn"

// TestStackOnLocalRuntime deploys stack.yml with go-sdk to the local
// runtime (pouch serve), as faas-cli deploy would, and works every
// function: list with annotations, invoke, update, scale, delete, deploy back.
func TestStackOnLocalRuntime(t *testing.T) {
	svc, tmpl := loadStack(t)
	s := startServe(t, nil, "POUCH_ALLOWED_ROOTS="+t.TempDir())
	client := sdk.NewClient(mustURL(t, s.URL), nil, http.DefaultClient)
	ctx := t.Context()

	// Deploy every function of stack.yml.
	for _, name := range slices.Sorted(maps.Keys(svc.Functions)) {
		code, err := client.Deploy(ctx, deployment(svc.Functions[name], tmpl.FProcess))
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("deploy %s: %d %v", name, code, err)
		}
	}

	// The list reports each as deployed, tick with the cron connector's annotations.
	list, err := client.GetFunctions(ctx, namespace)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.FunctionStatus{}
	for _, f := range list {
		got[f.Name] = f
	}
	for name, fn := range svc.Functions {
		st, ok := got[name]
		if !ok {
			t.Errorf("%s not listed", name)
			continue
		}
		if st.Image != fn.Image || st.EnvProcess != tmpl.FProcess || !maps.Equal(st.EnvVars, fn.Environment) ||
			!slices.Equal(st.Secrets, fn.Secrets) || st.Namespace != namespace || st.Replicas != 1 {
			t.Errorf("%s listed as %+v, want stack.yml's image %s, env %v, secrets %v", name, st, fn.Image, fn.Environment, fn.Secrets)
		}
		if fn.Labels != nil && (st.Labels == nil || !maps.Equal(*st.Labels, *fn.Labels)) {
			t.Errorf("%s labels %v, want %v", name, st.Labels, *fn.Labels)
		}
	}
	if a := got["tick"].Annotations; a == nil || (*a)["topic"] != "cron-function" || (*a)["schedule"] != "* * * * *" {
		t.Errorf("tick annotations %v, want topic cron-function and schedule \"* * * * *\"", a)
	}
	if env := got["hook"].EnvVars; env["POUCH_INVOKER"] != "openfaas" || env["POUCH_GATEWAY"] == "" {
		t.Errorf("hook env %v lacks the invoker settings", env)
	}

	// Invoke each.
	if ids := providerIDs(t, s.URL+"/function/api", "p1"); !slices.Equal(ids, []string{dirProvider, noopProvider}) {
		t.Errorf("api lists providers %v", ids)
	}
	code, body := call(t, http.MethodPost, s.URL+"/function/tick", "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"sweep"`) {
		t.Errorf("tick: %d %s", code, body)
	}
	code, body = call(t, http.MethodPost, s.URL+"/function/hook", "", "{not a task")
	if code != http.StatusBadRequest {
		t.Errorf("hook with a malformed task: %d %s, want 400", code, body)
	}
	// And tick through the queue, as a cron connector with async would.
	cb := newCallbacks(t)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/async-function/tick.openfaas-fn", nil)
	req.Header.Set("X-Callback-Url", cb.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Call-Id") == "" {
		t.Fatalf("async tick: %s, X-Call-Id %q", resp.Status, resp.Header.Get("X-Call-Id"))
	}
	waitFor(t, "tick's callback", func() (string, bool) { return strconv.Itoa(len(cb.headers())), len(cb.headers()) > 0 })
	if h := cb.headers()[0]; h.Get("X-Function-Status") != "200" || h.Get("X-Call-Id") != resp.Header.Get("X-Call-Id") || h.Get("X-Function-Name") != "tick" {
		t.Errorf("tick's callback headers %v", h)
	}

	// Update hook: new image, env and label; its invocations are kept.
	hook := deployment(svc.Functions["hook"], tmpl.FProcess)
	hook.Image = "pouch-hook:2"
	hook.EnvVars = maps.Clone(hook.EnvVars)
	hook.EnvVars["POUCH_LOG_LEVEL"] = "debug"
	labels := map[string]string{"pouch.function": "hook", "release": "2"}
	hook.Labels = &labels
	if code, err := client.Update(ctx, hook); err != nil || code != http.StatusAccepted {
		t.Fatalf("update hook: %d %v", code, err)
	}
	st, err := client.GetFunction(ctx, "hook", namespace)
	if err != nil {
		t.Fatal(err)
	}
	if st.Image != "pouch-hook:2" || st.EnvVars["POUCH_LOG_LEVEL"] != "debug" || st.Labels == nil || (*st.Labels)["release"] != "2" || st.InvocationCount != 1 {
		t.Errorf("hook after update: %+v", st)
	}

	// Scale hook.
	if err := client.ScaleFunction(ctx, "hook", namespace, 3); err != nil {
		t.Fatal(err)
	}
	if st, err = client.GetFunction(ctx, "hook", namespace); err != nil || st.Replicas != 3 || st.AvailableReplicas != 3 {
		t.Errorf("hook after scaling to 3: %+v %v", st, err)
	}

	// Delete api: 404 until it is deployed again.
	if err := client.DeleteFunction(ctx, "api", namespace); err != nil {
		t.Fatal(err)
	}
	if code, body := call(t, http.MethodGet, s.URL+"/function/api/v1/p1/providers", "p1", nil); code != http.StatusNotFound {
		t.Errorf("api after delete: %d %s, want 404", code, body)
	}
	if _, err := client.GetFunction(ctx, "api", namespace); err == nil {
		t.Error("GetFunction(api) after delete: no error")
	}
	if list, err = client.GetFunctions(ctx, namespace); err != nil || len(list) != 2 {
		t.Errorf("list after delete: %d functions, %v", len(list), err)
	}
	if code, err := client.Deploy(ctx, deployment(svc.Functions["api"], tmpl.FProcess)); err != nil || code != http.StatusAccepted {
		t.Fatalf("deploy api back: %d %v", code, err)
	}
	if ids := providerIDs(t, s.URL+"/function/api", "p1"); len(ids) != 2 {
		t.Errorf("api after deploying back lists providers %v", ids)
	}

	// A function the runtime has no handler for is refused, whatever its image.
	code, err = client.Deploy(ctx, types.FunctionDeployment{Service: "figlet", Image: "ghcr.io/openfaas/figlet:latest"})
	if code != http.StatusBadRequest || err == nil || !strings.Contains(err.Error(), "cannot run here") {
		t.Errorf("deploy figlet: %d %v, want 400 saying it cannot run here", code, err)
	}

	start := time.Now()
	s.stop()
	t.Logf("pouch serve stopped in %s", time.Since(start))
}
