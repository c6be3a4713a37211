package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// routes is every route Pouch serves, with ids that parse.
var routes = []struct{ method, path string }{
	{"GET", "providers"},
	{"GET", "providers/" + noopProvider},
	{"GET", "providers/" + noopProvider + "/checkpoints"},
	{"POST", "providers/" + noopProvider + "/checkpoints"},
	{"GET", "providers/" + noopProvider + "/checkpoints/" + unknownID},
	{"DELETE", "providers/" + noopProvider + "/checkpoints/" + unknownID},
	{"GET", "plans"},
	{"POST", "plans"},
	{"GET", "plans/" + unknownID},
	{"PUT", "plans/" + unknownID},
	{"DELETE", "plans/" + unknownID},
	{"GET", "restores"},
	{"POST", "restores"},
	{"GET", "restores/" + unknownID},
	{"GET", "protectables"},
	{"GET", "protectables/" + serverType},
	{"GET", "protectables/" + serverType + "/instances"},
	{"GET", "protectables/" + serverType + "/instances/" + unknownID},
	{"GET", "operation_logs"},
	{"GET", "operation_logs/" + unknownID},
}

// unknownID is a UUID nothing has.
const unknownID = "0badc0de-0000-4000-8000-000000000000"

func TestVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.doAs(t, "", "GET", "/", nil).Status(t, http.StatusMultipleChoices)
	if len(r.List(t, "versions")) != 1 || r.Str(t, "versions", 0, "id") != "v1.0" ||
		r.Str(t, "versions", 0, "status") != "CURRENT" || r.Str(t, "versions", 0, "links", 0, "rel") != "self" {
		t.Errorf("versions: %s", r.Raw)
	}
	if href := r.Str(t, "versions", 0, "links", 0, "href"); !strings.HasPrefix(href, "http://") || !strings.HasSuffix(href, "/v1/") {
		t.Errorf("versions href %q", href)
	}
}

func TestAuthAndURLProject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			e.doAs(t, "", rt.method, rt.path, nil).Fault(t, http.StatusUnauthorized)
			// The URL's project must be the token's, even for an admin.
			e.doAs(t, token, rt.method, "/v1/other/"+rt.path, nil).Fault(t, http.StatusBadRequest, "Malformed request url")
		})
	}
	// A token without a colon is a user who is also the project.
	e.doAs(t, project, "GET", "providers", nil).OK(t)
	e.doAs(t, "bob:"+project, "GET", "providers", nil).OK(t)
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, rt := range []struct{ method, path string }{
		{"GET", "nothing"},
		{"PUT", "providers/" + noopProvider},
		{"DELETE", "protectables/" + serverType},
		{"POST", "plans/" + unknownID},
		{"GET", "/v2/" + project + "/plans"},
	} {
		e.do(t, rt.method, rt.path, nil).Fault(t, http.StatusNotFound)
	}
}
