package keystone_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestTenancy: alice (member of A) creates and reads a plan, a checkpoint, a
// restore and their operation logs; bob (member of B) can neither read nor
// change them by guessing their ids, nor list them, even with all_tenants=1;
// an admin of the admin project lists both projects' plans with
// all_tenants=1.
func TestTenancy(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{})
	alice, bob, admin := k.caller(t, k.alice), k.caller(t, k.bob), k.caller(t, k.admin)

	planA := p.plan(t, alice, "plan of A")
	cps := "providers/" + noopProvider + "/checkpoints"
	cpA := p.as(t, alice, "POST", cps, obj{"checkpoint": obj{"plan_id": planA}}).OK(t).Str(t, "checkpoint", "id")
	p.waitStatus(t, alice, cps+"/"+cpA, "checkpoint", "available")
	restoreA := p.as(t, alice, "POST", "restores", obj{"restore": obj{"provider_id": noopProvider, "checkpoint_id": cpA,
		"parameters": obj{}}}).OK(t).Str(t, "restore", "id")
	p.waitStatus(t, alice, "restores/"+restoreA, "restore", "success")
	p.Settle(t)
	logsA := p.as(t, alice, "GET", "operation_logs", nil).OK(t).IDs(t, "operation_logs")
	if len(logsA) != 2 {
		t.Fatalf("alice's operation logs: %v, want the protect and the restore", logsA)
	}
	for _, path := range []string{"plans/" + planA, cps + "/" + cpA, "restores/" + restoreA, "operation_logs/" + logsA[0]} {
		p.as(t, alice, "GET", path, nil).OK(t)
	}
	if got := p.as(t, alice, "GET", "plans", nil).OK(t).IDs(t, "plans"); !slices.Equal(got, []string{planA}) {
		t.Errorf("alice's plans: %v, want %s", got, planA)
	}

	planB := p.plan(t, bob, "plan of B")
	for _, tc := range []struct {
		method, path string
		body         any
		code         int
	}{
		{"GET", "plans/" + planA, nil, http.StatusNotFound},
		{"PUT", "plans/" + planA, obj{"plan": obj{"name": "taken"}}, http.StatusNotFound},
		{"DELETE", "plans/" + planA, nil, http.StatusNotFound},
		{"GET", cps + "/" + cpA, nil, http.StatusForbidden},
		{"DELETE", cps + "/" + cpA, nil, http.StatusForbidden},
		{"GET", "restores/" + restoreA, nil, http.StatusNotFound},
		{"GET", "operation_logs/" + logsA[0], nil, http.StatusNotFound},
		{"GET", "operation_logs/" + logsA[1], nil, http.StatusNotFound},
	} {
		p.as(t, bob, tc.method, tc.path, tc.body).Fault(t, tc.code)
	}
	for _, all := range []string{"", "?all_tenants=1", "?all_tenants=true"} {
		for key, want := range map[string][]string{"plans": {planB}, "restores": nil, "operation_logs": nil} {
			if got := p.as(t, bob, "GET", key+all, nil).OK(t).IDs(t, key); !slices.Equal(got, want) {
				t.Errorf("bob's %s%s: %v, want %v", key, all, got, want)
			}
		}
		if got := p.as(t, bob, "GET", cps+all, nil).OK(t).IDs(t, "checkpoints"); len(got) != 0 {
			t.Errorf("bob's checkpoints%s: %v, want none", all, got)
		}
	}
	// Bob changed nothing.
	if name := p.as(t, alice, "GET", "plans/"+planA, nil).OK(t).Str(t, "plan", "name"); name != "plan of A" {
		t.Errorf("alice's plan is named %q after bob's update", name)
	}
	p.as(t, alice, "GET", cps+"/"+cpA, nil).OK(t)

	// An admin of the admin project lists every project's plans with
	// all_tenants=1, only its own project's without.
	if got := p.as(t, admin, "GET", "plans?all_tenants=1", nil).OK(t).IDs(t, "plans"); !slices.Contains(got, planA) || !slices.Contains(got, planB) {
		t.Errorf("admin's plans with all_tenants=1: %v, want %s and %s among them", got, planA, planB)
	}
	if got := p.as(t, admin, "GET", "plans", nil).OK(t).IDs(t, "plans"); slices.Contains(got, planA) || slices.Contains(got, planB) {
		t.Errorf("admin's own plans: %v, want neither %s nor %s", got, planA, planB)
	}
}

// TestMalformedURL: the URL's project must be the token's, even for an
// admin.
func TestMalformedURL(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{})
	alice, admin := k.caller(t, k.alice), k.caller(t, k.admin)
	for _, tc := range []struct {
		c       *caller
		project string
	}{
		{alice, k.bob.projectID},
		{alice, k.admin.projectID},
		{admin, k.alice.projectID},
	} {
		p.Do(t, tc.c.token, "GET", "/v1/"+tc.project+"/plans", nil).Fault(t, http.StatusBadRequest, "Malformed request url")
		p.Do(t, tc.c.token, "POST", "/v1/"+tc.project+"/plans", obj{"plan": obj{"name": "x"}}).
			Fault(t, http.StatusBadRequest, "Malformed request url")
	}
	p.Do(t, alice.token, "GET", "/v1/"+k.alice.projectID+"/plans", nil).OK(t)
}
