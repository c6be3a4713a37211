package openstack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// The shipped OpenStack providers (shared/provider/defaults), enabled with
// POUCH_OPENSTACK=True.
const (
	osInfra    = "6659007d-6f66-4a0f-9cb4-17d6aded0bb9" // volume (Cinder backup), image, server, network, project; fs bank
	osSnapshot = "90d5bfea-a259-41e6-80c6-dcfcfcd9d827" // volume snapshots; fs bank
)

// obj is a JSON object in request bodies.
type obj = map[string]any

// pouch is Pouch assembled in-process (apitest.Env: real redis-server, the
// shipped providers plus extra ones), its OpenStack plugins acting in the
// test stack as its demo user, called with the noauth token of the demo
// project.
type pouch struct {
	*apitest.Env
	stack   *openstacktest.Stack
	project string
	token   string
}

func newPouch(t *testing.T, s *openstacktest.Stack, providers map[string]string) *pouch {
	t.Helper()
	env := s.ProviderEnv()
	env["POUCH_OPENSTACK"] = "True"
	e := apitest.New(t, apitest.Options{Env: env, Providers: providers})
	project := s.Env["DEMO_PROJECT_ID"]
	return &pouch{Env: e, stack: s, project: project, token: "demo:" + project}
}

// bank is provider's bank, read beside Pouch.
func (p *pouch) bank(t *testing.T, provider string) bank.Bank {
	t.Helper()
	pr, err := p.App.Providers.Get(provider)
	if err != nil {
		t.Fatal(err)
	}
	return pr.Bank
}

// call sends a request; a path not starting with "/" is under
// /v1/<project>/.
func (p *pouch) call(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/v1/" + p.project + "/" + path
	}
	return p.Do(t, p.token, method, path, body)
}

// plan creates a plan of provider over resources with params.
func (p *pouch) plan(t *testing.T, provider string, resources []model.Resource, params obj) string {
	t.Helper()
	if params == nil {
		params = obj{}
	}
	return p.call(t, "POST", "plans", obj{"plan": obj{"name": t.Name(), "provider_id": provider,
		"parameters": params, "resources": resources}}).OK(t).Str(t, "plan", "id")
}

// protect makes a checkpoint of plan and waits until it is available or
// error (or limit passes): its final view.
func (p *pouch) protect(t *testing.T, provider, plan string, limit time.Duration) *apitest.Response {
	t.Helper()
	path := "providers/" + provider + "/checkpoints"
	id := p.call(t, "POST", path, obj{"checkpoint": obj{"plan_id": plan}}).OK(t).Str(t, "checkpoint", "id")
	return p.wait(t, path+"/"+id, "checkpoint", limit, model.CheckpointAvailable, model.CheckpointError)
}

// restore restores checkpoint cp and waits for its end: its final view.
func (p *pouch) restore(t *testing.T, provider, cp string, params obj, limit time.Duration) *apitest.Response {
	t.Helper()
	if params == nil {
		params = obj{}
	}
	id := p.call(t, "POST", "restores", obj{"restore": obj{"provider_id": provider, "checkpoint_id": cp,
		"parameters": params, "restore_target": nil, "restore_auth": nil}}).OK(t).Str(t, "restore", "id")
	return p.wait(t, "restores/"+id, "restore", limit, model.RestoreSuccess, model.RestoreFail)
}

// deleteCheckpoint deletes cp and waits for its end: its final view.
func (p *pouch) deleteCheckpoint(t *testing.T, provider, cp string, limit time.Duration) *apitest.Response {
	t.Helper()
	path := "providers/" + provider + "/checkpoints/" + cp
	p.call(t, "DELETE", path, nil).OK(t)
	return p.wait(t, path, "checkpoint", limit, model.CheckpointDeleted, model.CheckpointErrorDeleting, model.CheckpointError)
}

// wait polls GET path until the status of the object under key is one of
// final, failing t after limit.
func (p *pouch) wait(t *testing.T, path, key string, limit time.Duration, final ...string) *apitest.Response {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := p.call(t, "GET", path, nil).OK(t)
		st := r.Str(t, key, "status")
		for _, f := range final {
			if st == f {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %s: %s", r.What, st, limit, r.Raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
