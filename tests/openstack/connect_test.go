package openstack_test

import (
	"errors"
	"testing"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// TestConnect: the operator's credentials and a caller's token reach the
// same project; a bad token is refused as such.
func TestConnect(t *testing.T) {
	s := openstacktest.Start(t)
	demo := s.Demo(t)
	if demo.ProjectID != s.Env["DEMO_PROJECT_ID"] || demo.ProjectName != s.Env["DEMO_PROJECT"] {
		t.Fatalf("demo connected to %s (%s), want %s", demo.ProjectID, demo.ProjectName, s.Env["DEMO_PROJECT_ID"])
	}
	tok := demo.Provider.Token()
	cloud := s.Cloud(func(string) (string, bool) { return "", false })
	cl, err := cloud.Connect(t.Context(), protection.Credentials{Token: tok})
	if err != nil {
		t.Fatalf("connect with the demo token: %v", err)
	}
	if cl.ProjectID != demo.ProjectID || cl.UserID != s.Env["DEMO_USER_ID"] {
		t.Errorf("token session: project %s user %s", cl.ProjectID, cl.UserID)
	}
	if _, err := cloud.Connect(t.Context(), protection.Credentials{Token: "not-a-token"}); err == nil {
		t.Error("a bad token connected")
	} else if !errors.Is(err, openstack.ErrCredentials) {
		t.Errorf("bad token: %v, want ErrCredentials", err)
	}
}
