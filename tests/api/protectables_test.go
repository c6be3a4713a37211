package api_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/plugins/noop"
)

func TestProtectables(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	var types []string
	for _, v := range e.do(t, "GET", "protectables", nil).OK(t).List(t, "protectable_type") {
		s, _ := v.(string)
		types = append(types, s)
	}
	for _, want := range append([]string{dirType}, noop.ResourceTypes...) {
		if !slices.Contains(types, want) {
			t.Errorf("protectable types %v lack %s", types, want)
		}
	}

	for _, typ := range []string{dirType, serverType} {
		r := e.do(t, "GET", "protectables/"+typ, nil).OK(t)
		if r.Str(t, "protectable_type", "name") != typ {
			t.Errorf("protectable %s: %s", typ, r.Raw)
		}
		r.List(t, "protectable_type", "dependent_types")
	}
	for _, path := range []string{"protectables/Foo::Bar", "protectables/Foo::Bar/instances",
		"protectables/Foo::Bar/instances/" + unknownID} {
		e.do(t, "GET", path, nil).Fault(t, http.StatusBadRequest, "protectable type", "Foo::Bar")
	}

	// root/a/b/c/d is deeper than the instance depth (2): not listed, but
	// found when its path is given.
	a, ab, deep, z := filepath.Join(e.Root, "a"), filepath.Join(e.Root, "a", "b"),
		filepath.Join(e.Root, "a", "b", "c", "d"), filepath.Join(e.Root, "z")
	for _, d := range []string{deep, z} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("instances", func(t *testing.T) {
		r := e.do(t, "GET", "protectables/"+dirType+"/instances", nil).OK(t)
		var want []string
		for _, d := range []string{e.Root, a, ab, z} { // sorted by path
			want = append(want, localdir.ResourceFor(d).ID)
		}
		if got := r.IDs(t, "instances"); !slices.Equal(got, want) {
			t.Fatalf("instances %v, want %v (%s)", got, want, r.Raw)
		}
		if r.Str(t, "instances", 1, "name") != a || r.Str(t, "instances", 1, "type") != dirType ||
			len(r.List(t, "instances", 1, "dependent_resources")) != 0 {
			t.Errorf("instance of %s: %s", a, r.Raw)
		}
		// No cloud: no Nova servers, and no error.
		if got := e.do(t, "GET", "protectables/"+serverType+"/instances", nil).OK(t).List(t, "instances"); len(got) != 0 {
			t.Errorf("servers %v, want none", got)
		}
	})

	t.Run("show", func(t *testing.T) {
		base := "protectables/" + dirType + "/instances/"
		r := e.do(t, "GET", base+localdir.ResourceFor(ab).ID, nil).OK(t)
		if r.Str(t, "instance", "id") != localdir.ResourceFor(ab).ID || r.Str(t, "instance", "name") != ab ||
			r.Str(t, "instance", "type") != dirType || len(r.List(t, "instance", "dependent_resources")) != 0 {
			t.Errorf("instance %s: %s", ab, r.Raw)
		}

		deepID := localdir.ResourceFor(deep).ID
		e.do(t, "GET", base+deepID, nil).Fault(t, http.StatusNotFound, deepID)
		// python-karborclient sends the parameters as a Python repr.
		withPath := func(p string) string { return "?parameters=" + url.QueryEscape("{'path': '"+p+"'}") }
		r = e.do(t, "GET", base+deepID+withPath(deep), nil).OK(t)
		if r.Str(t, "instance", "name") != deep {
			t.Errorf("instance %s: %s", deep, r.Raw)
		}
		r = e.do(t, "GET", base+deepID+"?parameters="+url.QueryEscape(`{"path": "`+deep+`"}`), nil).OK(t)
		if r.Str(t, "instance", "name") != deep {
			t.Errorf("instance %s (JSON parameters): %s", deep, r.Raw)
		}

		// Outside the roots, a path whose id is not the one asked, a
		// directory that does not exist, an unknown id: not found.
		e.do(t, "GET", base+localdir.ResourceFor("/etc").ID+withPath("/etc"), nil).Fault(t, http.StatusNotFound)
		e.do(t, "GET", base+deepID+withPath(ab), nil).Fault(t, http.StatusNotFound)
		gone := filepath.Join(e.Root, "gone")
		e.do(t, "GET", base+localdir.ResourceFor(gone).ID+withPath(gone), nil).Fault(t, http.StatusNotFound)
		e.do(t, "GET", base+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
		e.do(t, "GET", "protectables/"+serverType+"/instances/"+unknownID, nil).Fault(t, http.StatusNotFound)

		e.do(t, "GET", base+deepID+"?parameters="+url.QueryEscape("{'path'"), nil).Fault(t, http.StatusBadRequest, "parameters")
	})
}
