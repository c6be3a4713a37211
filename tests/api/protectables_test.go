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
	for _, v := range e.do(t, "GET", "protectables", nil).ok(t).list(t, "protectable_type") {
		s, _ := v.(string)
		types = append(types, s)
	}
	for _, want := range append([]string{dirType}, noop.ResourceTypes...) {
		if !slices.Contains(types, want) {
			t.Errorf("protectable types %v lack %s", types, want)
		}
	}

	for _, typ := range []string{dirType, serverType} {
		r := e.do(t, "GET", "protectables/"+typ, nil).ok(t)
		if r.str(t, "protectable_type", "name") != typ {
			t.Errorf("protectable %s: %s", typ, r.raw)
		}
		r.list(t, "protectable_type", "dependent_types")
	}
	for _, path := range []string{"protectables/Foo::Bar", "protectables/Foo::Bar/instances",
		"protectables/Foo::Bar/instances/" + unknownID} {
		e.do(t, "GET", path, nil).fault(t, http.StatusBadRequest, "protectable type", "Foo::Bar")
	}

	// root/a/b/c/d is deeper than the instance depth (2): not listed, but
	// found when its path is given.
	a, ab, deep, z := filepath.Join(e.root, "a"), filepath.Join(e.root, "a", "b"),
		filepath.Join(e.root, "a", "b", "c", "d"), filepath.Join(e.root, "z")
	for _, d := range []string{deep, z} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("instances", func(t *testing.T) {
		r := e.do(t, "GET", "protectables/"+dirType+"/instances", nil).ok(t)
		var want []string
		for _, d := range []string{e.root, a, ab, z} { // sorted by path
			want = append(want, localdir.ResourceFor(d).ID)
		}
		if got := r.ids(t, "instances"); !slices.Equal(got, want) {
			t.Fatalf("instances %v, want %v (%s)", got, want, r.raw)
		}
		if r.str(t, "instances", 1, "name") != a || r.str(t, "instances", 1, "type") != dirType ||
			len(r.list(t, "instances", 1, "dependent_resources")) != 0 {
			t.Errorf("instance of %s: %s", a, r.raw)
		}
		// No cloud: no Nova servers, and no error.
		if got := e.do(t, "GET", "protectables/"+serverType+"/instances", nil).ok(t).list(t, "instances"); len(got) != 0 {
			t.Errorf("servers %v, want none", got)
		}
	})

	t.Run("show", func(t *testing.T) {
		base := "protectables/" + dirType + "/instances/"
		r := e.do(t, "GET", base+localdir.ResourceFor(ab).ID, nil).ok(t)
		if r.str(t, "instance", "id") != localdir.ResourceFor(ab).ID || r.str(t, "instance", "name") != ab ||
			r.str(t, "instance", "type") != dirType || len(r.list(t, "instance", "dependent_resources")) != 0 {
			t.Errorf("instance %s: %s", ab, r.raw)
		}

		deepID := localdir.ResourceFor(deep).ID
		e.do(t, "GET", base+deepID, nil).fault(t, http.StatusNotFound, deepID)
		// python-karborclient sends the parameters as a Python repr.
		withPath := func(p string) string { return "?parameters=" + url.QueryEscape("{'path': '"+p+"'}") }
		r = e.do(t, "GET", base+deepID+withPath(deep), nil).ok(t)
		if r.str(t, "instance", "name") != deep {
			t.Errorf("instance %s: %s", deep, r.raw)
		}
		r = e.do(t, "GET", base+deepID+"?parameters="+url.QueryEscape(`{"path": "`+deep+`"}`), nil).ok(t)
		if r.str(t, "instance", "name") != deep {
			t.Errorf("instance %s (JSON parameters): %s", deep, r.raw)
		}

		// Outside the roots, a path whose id is not the one asked, a
		// directory that does not exist, an unknown id: not found.
		e.do(t, "GET", base+localdir.ResourceFor("/etc").ID+withPath("/etc"), nil).fault(t, http.StatusNotFound)
		e.do(t, "GET", base+deepID+withPath(ab), nil).fault(t, http.StatusNotFound)
		gone := filepath.Join(e.root, "gone")
		e.do(t, "GET", base+localdir.ResourceFor(gone).ID+withPath(gone), nil).fault(t, http.StatusNotFound)
		e.do(t, "GET", base+unknownID, nil).fault(t, http.StatusNotFound, unknownID)
		e.do(t, "GET", "protectables/"+serverType+"/instances/"+unknownID, nil).fault(t, http.StatusNotFound)

		e.do(t, "GET", base+deepID+"?parameters="+url.QueryEscape("{'path'"), nil).fault(t, http.StatusBadRequest, "parameters")
	})
}
