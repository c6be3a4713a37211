package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrors: what users see when the server refuses: the server's message
// (with its status) from karbor, and from openstack where it does not look
// the id up by name first; the 400 "Malformed request url" when the URL's
// project is not the token's.
func TestErrors(t *testing.T) {
	t.Parallel()
	root := realDir(t, t.TempDir())
	mkTree(t, root, map[string]string{"app/a.txt": "a"})
	app := filepath.Join(root, "app")
	s := start(t, root)
	c := newClient(s, "cli-errors")
	other := c.withToken("someone-else")
	cases := []struct {
		name     string
		c        *client
		v        variant
		args     []string
		want     string
		wireWant string // a status and message the server must have sent
	}{
		{"plan-show-unknown", c, legacy, []string{"plan-show", unknownID},
			"Plan " + unknownID + " could not be found. (HTTP 404)", ""},
		// OSC's plan show looks the id up by name after the 404.
		{"plan-show-unknown", c, osc, []string{"plan", "show", unknownID},
			"No plan with a name or ID of '" + unknownID + "' exists.", `404 {"itemNotFound":{"code":404,"message":"Plan ` + unknownID + ` could not be found."}}`},
		{"checkpoint-show-unknown", c, legacy, []string{"checkpoint-show", dirProvider, unknownID}, "(HTTP 404)", ""},
		{"checkpoint-show-unknown", c, osc, []string{"checkpoint", "show", dirProvider, unknownID}, "(HTTP 404)", ""},
		{"restore-show-unknown", c, legacy, []string{"restore-show", unknownID}, "(HTTP 404)", ""},
		{"provider-show-unknown", c, legacy, []string{"provider-show", unknownID}, "(HTTP 404)", ""},
		{"plan-show-not-uuid", c, legacy, []string{"plan-show", "not-a-uuid"}, "(HTTP 400)", ""},
		{"plan-create-unknown-provider", c, legacy, []string{"plan-create", "x", unknownID, resourceArg(app)}, "(HTTP 400)", ""},
		{"plan-create-unknown-resource", c, legacy, []string{"plan-create", "x", dirProvider, resourceArg(filepath.Join(root, "nowhere"))},
			"can not be found.", ""},
		// Pouch checks plan resources against the provider's plugins.
		{"plan-create-type-not-handled", c, legacy, []string{"plan-create", "x", noopProvider, resourceArg(app)},
			`no plugin of provider "No-Op Provider" handles type Pouch::Local::Directory`, ""},
		{"plan-create-type-not-handled", c, osc, []string{"plan", "create", "x", noopProvider, resourceArg(app)},
			`no plugin of provider "No-Op Provider" handles type Pouch::Local::Directory`, ""},
		{"malformed-url", other, legacy, []string{"plan-list"}, "Malformed request url (HTTP 400)", ""},
		{"malformed-url", other, osc, []string{"plan", "list"}, "Malformed request url (HTTP 400)", ""},
		{"malformed-url-provider", other, legacy, []string{"provider-show", dirProvider}, "Malformed request url (HTTP 400)", ""},
		{"malformed-url-provider", other, osc, []string{"provider", "list"}, "Malformed request url (HTTP 400)", ""},
		{"malformed-url-checkpoints", other, legacy, []string{"checkpoint-list", dirProvider}, "Malformed request url (HTTP 400)", ""},
		{"malformed-url-checkpoints", other, osc, []string{"checkpoint", "list", dirProvider}, "Malformed request url (HTTP 400)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+string(tc.v), func(t *testing.T) {
			t.Parallel()
			o := tc.c.mustFail(t, tc.v, tc.want, tc.args...)
			if tc.wireWant != "" && (len(o.wire) == 0 || !strings.Contains(o.wire[0].String(), tc.wireWant)) {
				t.Errorf("the server did not answer %s first:\n%s", tc.wireWant, o.describe())
			}
		})
	}
	// A restore of a checkpoint that does not exist is accepted and fails
	// (spec §2.5: status "fail" with 200).
	t.Run("restore-create-unknown-checkpoint", func(t *testing.T) {
		for _, v := range variants {
			r := c.run(t, v, []string{"restore-create", dirProvider, unknownID}, []string{"restore", "create", dirProvider, unknownID}).record(t)
			if r.get("status") != "fail" || r.get("checkpoint_id") != unknownID {
				t.Errorf("%s: restore of an unknown checkpoint: %v", v, r)
			}
		}
	})
}
