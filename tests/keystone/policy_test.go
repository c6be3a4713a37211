package keystone_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestPolicyFile: a policy file overriding plan:create to role:admin makes
// alice's plan create 403; the rules it does not name keep Karbor's
// defaults.
func TestPolicyFile(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("# admins only create plans\n\"plan:create\": \"role:admin\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPouch(t, k, setup{policyFile: file})
	alice, admin := k.caller(t, k.alice), k.caller(t, k.admin)
	p.as(t, alice, "POST", "plans", obj{"plan": obj{"name": "refused", "provider_id": noopProvider, "parameters": obj{},
		"resources": []obj{}}}).Fault(t, http.StatusForbidden, "plan:create")
	p.as(t, alice, "GET", "plans", nil).OK(t)
	p.plan(t, admin, "allowed")

	// Without the file, alice may.
	p = newPouch(t, k, setup{})
	p.plan(t, alice, "allowed")
}
