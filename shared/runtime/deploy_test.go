package runtime_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/openfaas/faas-provider/types"
)

func send(t *testing.T, method, url string, v any) (*http.Response, []byte) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, method, url, bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

func status(t *testing.T, srv *httptest.Server, name string) (types.FunctionStatus, int) {
	t.Helper()
	resp, body := do(t, http.MethodGet, srv.URL+"/system/function/"+name, nil, nil)
	var st types.FunctionStatus
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
	}
	return st, resp.StatusCode
}

func listed(t *testing.T, srv *httptest.Server) []string {
	t.Helper()
	var list []types.FunctionStatus
	getJSON(t, srv.URL+"/system/functions", &list)
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	return names
}

func ptr(m map[string]string) *map[string]string { return &m }

// TestDeployLifecycle walks one function through deploy, call, update,
// scale, delete and deploy again, checking what the provider reports.
func TestDeployLifecycle(t *testing.T) {
	srv := newServer(t)
	spec := types.FunctionDeployment{
		Service:     "tick",
		Image:       "registry.example/pouch-tick:1.2",
		Namespace:   "openfaas-fn",
		EnvProcess:  "./handler",
		EnvVars:     map[string]string{"POUCH_REDIS": "redis://r:6379/0"},
		Secrets:     []string{"pouch-providers"},
		Constraints: []string{"node.platform.os == linux"},
		Labels:      ptr(map[string]string{"com.openfaas.scale.max": "1"}),
		Annotations: ptr(map[string]string{"topic": "cron-function", "schedule": "*/2 * * * *"}),
		Limits:      &types.FunctionResources{Memory: "128Mi"},
	}
	if resp, body := send(t, http.MethodPost, srv.URL+"/system/functions", spec); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	st, code := status(t, srv, "tick")
	if code != http.StatusOK {
		t.Fatalf("status after deploy: %d", code)
	}
	if st.Image != spec.Image || st.EnvProcess != "./handler" || st.EnvVars["POUCH_REDIS"] != "redis://r:6379/0" ||
		!slices.Equal(st.Secrets, spec.Secrets) || !slices.Equal(st.Constraints, spec.Constraints) ||
		st.Labels == nil || !maps.Equal(*st.Labels, *spec.Labels) ||
		st.Annotations == nil || !maps.Equal(*st.Annotations, *spec.Annotations) ||
		st.Limits == nil || st.Limits.Memory != "128Mi" || st.Replicas != 1 || st.AvailableReplicas != 1 || st.InvocationCount != 0 {
		t.Errorf("status after deploy: %+v", st)
	}
	created := st.CreatedAt

	for range 3 {
		if resp, body := do(t, http.MethodPost, srv.URL+"/function/tick", nil, nil); resp.StatusCode != http.StatusTeapot {
			t.Fatalf("call: %d %s", resp.StatusCode, body)
		}
	}

	spec.Image = "registry.example/pouch-tick:1.3"
	spec.EnvVars = map[string]string{"POUCH_LOG_LEVEL": "debug"}
	spec.Annotations = ptr(map[string]string{"topic": "cron-function", "schedule": "* * * * *"})
	if resp, body := send(t, http.MethodPut, srv.URL+"/system/functions", spec); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	st, _ = status(t, srv, "tick")
	if st.Image != spec.Image || st.EnvVars["POUCH_LOG_LEVEL"] != "debug" || st.EnvVars["POUCH_REDIS"] != "" ||
		(*st.Annotations)["schedule"] != "* * * * *" || st.InvocationCount != 3 || !st.CreatedAt.Equal(created) {
		t.Errorf("status after update (want the new spec, 3 invocations kept, same creation): %+v", st)
	}

	if resp, body := send(t, http.MethodPost, srv.URL+"/system/scale-function/tick",
		types.ScaleServiceRequest{ServiceName: "tick", Replicas: 3, Namespace: "openfaas-fn"}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("scale: %d %s", resp.StatusCode, body)
	}
	if st, _ = status(t, srv, "tick"); st.Replicas != 3 || st.AvailableReplicas != 3 {
		t.Errorf("after scaling to 3: replicas %d/%d", st.AvailableReplicas, st.Replicas)
	}

	if resp, body := send(t, http.MethodDelete, srv.URL+"/system/functions",
		types.DeleteFunctionRequest{FunctionName: "tick", Namespace: "openfaas-fn"}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodPost, "/function/tick"},
		{http.MethodPost, "/function/tick.openfaas-fn/x"},
		{http.MethodGet, "/system/function/tick"},
		{http.MethodPost, "/async-function/tick"},
	} {
		if resp, _ := do(t, tt.method, srv.URL+tt.path, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("after delete: %s %s = %d, want 404", tt.method, tt.path, resp.StatusCode)
		}
	}
	if names := listed(t, srv); slices.Contains(names, "tick") {
		t.Errorf("after delete the list still has tick: %v", names)
	}
	if resp, _ := send(t, http.MethodPut, srv.URL+"/system/functions", spec); resp.StatusCode != http.StatusNotFound {
		t.Errorf("update of a deleted function = %d, want 404 (faas-cli then deploys)", resp.StatusCode)
	}
	if resp, _ := send(t, http.MethodDelete, srv.URL+"/system/functions", types.DeleteFunctionRequest{FunctionName: "tick"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second delete = %d, want 404", resp.StatusCode)
	}

	if resp, body := send(t, http.MethodPost, srv.URL+"/system/functions", spec); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deploy again: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, http.MethodPost, srv.URL+"/function/tick", nil, nil); resp.StatusCode != http.StatusTeapot {
		t.Fatalf("call after deploying again: %d %s", resp.StatusCode, body)
	}
	if st, _ = status(t, srv, "tick"); st.InvocationCount != 1 || st.Replicas != 1 || st.Image != spec.Image {
		t.Errorf("a new deployment starts afresh: %+v", st)
	}
	if names := listed(t, srv); !slices.Equal(names, []string{"api", "hook.v1", "tick"}) {
		t.Errorf("list = %v", names)
	}
}

// Deploying over a deployed function (go-sdk's Deploy is a POST) replaces it.
func TestRedeploy(t *testing.T) {
	srv := newServer(t)
	spec := types.FunctionDeployment{Service: "api", Image: "pouch-api:2", Labels: ptr(map[string]string{"v": "2"})}
	for range 2 {
		if resp, body := send(t, http.MethodPost, srv.URL+"/system/functions", spec); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("deploy: %d %s", resp.StatusCode, body)
		}
	}
	st, _ := status(t, srv, "api")
	if st.Image != "pouch-api:2" || st.Labels == nil || (*st.Labels)["v"] != "2" || st.Namespace != "openfaas-fn" {
		t.Errorf("status %+v", st)
	}
	// No image: the provider's own.
	if resp, _ := send(t, http.MethodPost, srv.URL+"/system/functions", types.FunctionDeployment{Service: "api.openfaas-fn"}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deploy without image: %d", resp.StatusCode)
	}
	if st, _ = status(t, srv, "api"); st.Image != "pouch-local" || st.Labels != nil {
		t.Errorf("status %+v", st)
	}
}

func TestDeployRefusals(t *testing.T) {
	srv := newServer(t)
	big := `{"service":"api","image":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		wantCode                 int
		wantMsg                  string
	}{
		{name: "unknown function", method: "POST", path: "/system/functions", body: `{"service":"figlet","image":"ghcr.io/openfaas/figlet"}`,
			wantCode: 400, wantMsg: `function "figlet" cannot run here: the local provider runs only the functions it was built with (api, hook.v1, tick)`},
		{name: "unknown function update", method: "PUT", path: "/system/functions", body: `{"service":"figlet","image":"x"}`,
			wantCode: 400, wantMsg: "cannot run here"},
		{name: "other namespace", method: "POST", path: "/system/functions", body: `{"service":"api","namespace":"kube-system"}`,
			wantCode: 400, wantMsg: "namespace"},
		{name: "invalid name", method: "POST", path: "/system/functions", body: `{"service":"a/b"}`,
			wantCode: 400, wantMsg: "not a valid function name"},
		{name: "no name", method: "POST", path: "/system/functions", body: `{"image":"x"}`,
			wantCode: 400, wantMsg: "not a valid function name"},
		{name: "malformed JSON", method: "POST", path: "/system/functions", body: `{"service":`,
			wantCode: 400, wantMsg: "request body"},
		{name: "body too large", method: "POST", path: "/system/functions", body: big,
			wantCode: 413, wantMsg: "over"},
		{name: "delete unknown", method: "DELETE", path: "/system/functions", body: `{"functionName":"figlet"}`,
			wantCode: 404, wantMsg: "not found"},
		{name: "delete other namespace", method: "DELETE", path: "/system/functions", body: `{"functionName":"api","namespace":"x"}`,
			wantCode: 400, wantMsg: "namespace"},
		{name: "scale unknown", method: "POST", path: "/system/scale-function/figlet", body: `{"serviceName":"figlet","replicas":2}`,
			wantCode: 404, wantMsg: "not found"},
		{name: "scale name mismatch", method: "POST", path: "/system/scale-function/api", body: `{"serviceName":"tick","replicas":2}`,
			wantCode: 400, wantMsg: "does not match"},
		{name: "scale malformed", method: "POST", path: "/system/scale-function/api", body: `{"replicas":-1}`,
			wantCode: 400, wantMsg: "request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, strings.NewReader(tt.body), nil)
			if resp.StatusCode != tt.wantCode || !strings.Contains(string(body), tt.wantMsg) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, body, tt.wantCode, tt.wantMsg)
			}
		})
	}
	// Nothing changed.
	if names := listed(t, srv); !slices.Equal(names, []string{"api", "hook.v1", "tick"}) {
		t.Errorf("list = %v", names)
	}
}

// A function scaled to zero is scaled back to one by its next call.
func TestScaleFromZero(t *testing.T) {
	srv := newServer(t)
	if resp, body := send(t, http.MethodPost, srv.URL+"/system/scale-function/api.openfaas-fn", types.ScaleServiceRequest{Replicas: 0}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("scale: %d %s", resp.StatusCode, body)
	}
	if st, _ := status(t, srv, "api"); st.Replicas != 0 || st.AvailableReplicas != 0 {
		t.Errorf("after scaling to 0: %d/%d", st.AvailableReplicas, st.Replicas)
	}
	if resp, _ := do(t, http.MethodGet, srv.URL+"/function/api/x", nil, nil); resp.StatusCode != http.StatusTeapot {
		t.Fatalf("call of a function scaled to zero: %d", resp.StatusCode)
	}
	if st, _ := status(t, srv, "api"); st.Replicas != 1 || st.AvailableReplicas != 1 {
		t.Errorf("after a call: %d/%d, want 1/1", st.AvailableReplicas, st.Replicas)
	}
}
