package keystone_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

// TestScheduledOperationTrust: with Keystone, creating a scheduled operation
// makes a trust from its creator to Pouch's service user (Karbor's design);
// the trust gives the tick a token acting as the creator in their project;
// deleting the operation deletes the trust.
func TestScheduledOperationTrust(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{})
	ctx := context.Background()
	alice := k.caller(t, k.alice)
	plan := p.plan(t, alice, "scheduled")
	trig := p.as(t, alice, "POST", "triggers", obj{"trigger_info": obj{"name": "hourly", "type": "time",
		"properties": obj{"format": "crontab", "pattern": "0 * * * *"}}}).OK(t).Str(t, "trigger_info", "id")
	op := p.as(t, alice, "POST", "scheduled_operations", obj{"scheduled_operation": obj{"name": "hourly protect",
		"operation_type": "protect", "trigger_id": trig,
		"operation_definition": obj{"plan_id": plan, "provider_id": noopProvider}}}).OK(t).Str(t, "scheduled_operation", "id")
	so, err := p.App.Store.Scheduled.Get(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	trust := so.Credential["trust_id"]
	if trust == "" {
		t.Fatalf("scheduled operation %s has no trust: %+v", op, so)
	}

	admin := k.token(t, k.admin)
	_, body, err := k.call(ctx, "GET", "/OS-TRUST/trusts/"+trust, admin, nil, http.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	if field(body, "trust", "trustor_user_id") != k.alice.id || field(body, "trust", "trustee_user_id") != k.service.id ||
		field(body, "trust", "project_id") != k.alice.projectID {
		t.Errorf("trust %v", body)
	}

	// The token the tick gets from the trust acts as alice in project A.
	tok, err := p.App.Scheduler.Trusts.TrustToken(ctx, trust)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.App.API.Auth.Authenticate(ctx, requestWithToken(tok))
	if err != nil || id.UserID != k.alice.id || id.ProjectID != k.alice.projectID {
		t.Errorf("trust token identity %+v, %v; want alice in A", id, err)
	}
	if got := p.Do(t, tok, "GET", "/v1/"+k.alice.projectID+"/plans", nil).OK(t).IDs(t, "plans"); !slices.Contains(got, plan) {
		t.Errorf("plans seen with the trust token: %v", got)
	}

	p.as(t, alice, "DELETE", "scheduled_operations/"+op, nil).OK(t)
	if _, _, err := k.call(ctx, "GET", "/OS-TRUST/trusts/"+trust, admin, nil, http.StatusNotFound); err != nil {
		t.Errorf("trust after the operation's delete: %v", err)
	}
}

func requestWithToken(tok string) *http.Request {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("X-Auth-Token", tok)
	return r
}
