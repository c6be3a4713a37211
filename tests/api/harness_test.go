package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/tests/apitest"
)

const (
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	dirProvider  = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
	dirType      = "Pouch::Local::Directory"
	serverType   = "OS::Nova::Server"

	// token is the default caller: noauth's "user:project"; the caller is
	// an admin, as every noauth caller.
	token   = "alice:demo"
	project = "demo"
)

// obj is a JSON object in request bodies.
type obj = map[string]any

// response is one API answer (apitest.Response).
type response = apitest.Response

var (
	equalJSON  = apitest.EqualJSON
	faultNames = apitest.FaultNames
)

// env is Pouch assembled as the local runtime does it, on a private
// redis-server, served by httptest (apitest.Env). Root is the Local
// Directory Provider's only allowed root.
type env struct{ *apitest.Env }

func newEnv(t testing.TB) *env { return &env{apitest.New(t, apitest.Options{})} }

// newMemberEnv is newEnv with callers that are not admins (memberAuth).
func newMemberEnv(t testing.TB) *env {
	return &env{apitest.New(t, apitest.Options{Auth: memberAuth{}})}
}

// settle waits until every operation started so far has finished.
func (e *env) settle(t *testing.T) { e.Settle(t) }

// do sends a request as the default token; see doAs.
func (e *env) do(t *testing.T, method, path string, body any) *response {
	t.Helper()
	return e.doAs(t, token, method, path, body)
}

// doAs sends a request with X-Auth-Token tok (none if empty); a path not
// starting with "/" is under /v1/<tok's project>/.
func (e *env) doAs(t *testing.T, tok, method, path string, body any) *response {
	t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/v1/" + projectOf(tok) + "/" + path
	}
	return e.Do(t, tok, method, path, body)
}

func projectOf(tok string) string {
	if _, p, ok := strings.Cut(tok, ":"); ok {
		return p
	}
	if tok == "" {
		return project
	}
	return tok
}

// finalStatuses end the polling of waitStatus.
var finalStatuses = map[string]bool{
	model.CheckpointAvailable: true, model.CheckpointError: true, model.CheckpointDeleted: true,
	model.CheckpointErrorDeleting: true, model.RestoreSuccess: true, model.RestoreFail: true,
}

// waitStatus polls GET path until the object under key has status want;
// another final status or 30 s fail the test.
func (e *env) waitStatus(t *testing.T, path, key, want string) *response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do(t, "GET", path, nil).OK(t)
		st := r.Str(t, key, "status")
		switch {
		case st == want:
			return r
		case finalStatuses[st]:
			t.Fatalf("%s: status %s, want %s: %s", r.What, st, want, r.Raw)
		case time.Now().After(deadline):
			t.Fatalf("%s: still %s after 30 s, want %s", r.What, st, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// server is the n-th Nova server, a resource the noop provider protects.
func server(n int) model.Resource {
	return model.Resource{Type: serverType, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Name: fmt.Sprintf("vm%d", n)}
}

// planBody is a plan create body of provider over resources.
func planBody(name, providerID string, resources ...model.Resource) obj {
	return obj{"plan": obj{"name": name, "provider_id": providerID, "parameters": obj{}, "resources": resources}}
}

// plan creates a plan and returns its id.
func (e *env) plan(t *testing.T, name, providerID string, resources ...model.Resource) string {
	t.Helper()
	return e.do(t, "POST", "plans", planBody(name, providerID, resources...)).OK(t).Str(t, "plan", "id")
}

// checkpoint protects plan and waits until its checkpoint is available.
func (e *env) checkpoint(t *testing.T, providerID, planID string) string {
	t.Helper()
	path := "providers/" + providerID + "/checkpoints"
	id := e.do(t, "POST", path, obj{"checkpoint": obj{"plan_id": planID}}).OK(t).Str(t, "checkpoint", "id")
	e.waitStatus(t, path+"/"+id, "checkpoint", model.CheckpointAvailable)
	return id
}

// memberAuth is noauth without the admin role: the token "user:project" is
// a member of project, so Karbor's admin_or_owner rules confine it to its
// project.
type memberAuth struct{}

func (memberAuth) Authenticate(ctx context.Context, r *http.Request) (*auth.Identity, error) {
	id, err := auth.NoAuth{}.Authenticate(ctx, r)
	if err != nil {
		return nil, err
	}
	id.Roles, id.IsAdmin, id.IsAdminProject = []string{"member"}, false, false
	return id, nil
}
