package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/noop"
)

func TestProviders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.do(t, "GET", "providers", nil).OK(t)
	all := []string{dirProvider, noopProvider} // sorted by id
	if got := r.IDs(t, "providers"); !slices.Equal(got, all) {
		t.Fatalf("providers %v, want %v", got, all)
	}
	for i := range all {
		eis, _ := r.Get(t, "providers", i, "extended_info_schema").(map[string]any)
		if len(eis) != 3 {
			t.Errorf("extended_info_schema %v, want options_schema, restore_schema, saved_info_schema", eis)
		}
		for _, k := range []string{"options_schema", "restore_schema", "saved_info_schema"} {
			r.Get(t, "providers", i, "extended_info_schema", k)
		}
	}

	t.Run("show noop", func(t *testing.T) {
		r := e.do(t, "GET", "providers/"+noopProvider, nil).OK(t)
		if r.Str(t, "provider", "name") != "No-Op Provider" || r.Str(t, "provider", "description") == "" {
			t.Errorf("noop provider: %s", r.Raw)
		}
		for _, k := range []string{"options_schema", "restore_schema", "saved_info_schema"} {
			for _, typ := range noop.ResourceTypes {
				if s, ok := r.Get(t, "provider", "extended_info_schema", k, typ).(map[string]any); !ok || len(s) != 0 {
					t.Errorf("noop %s of %s: %v, want {}", k, typ, s)
				}
			}
		}
	})
	t.Run("show local directory", func(t *testing.T) {
		// The 32-hex form of a UUID is accepted too.
		r := e.do(t, "GET", "providers/"+strings.ReplaceAll(dirProvider, "-", ""), nil).OK(t)
		if r.Str(t, "provider", "id") != dirProvider || r.Str(t, "provider", "name") != "Local Directory Provider" {
			t.Errorf("directory provider: %s", r.Raw)
		}
		r.Get(t, "provider", "extended_info_schema", "options_schema", dirType, "properties", "exclude")
		r.Get(t, "provider", "extended_info_schema", "restore_schema", dirType, "properties", "restore_path")
		r.Get(t, "provider", "extended_info_schema", "saved_info_schema", dirType)
	})
	t.Run("show refusals", func(t *testing.T) {
		e.do(t, "GET", "providers/not-a-uuid", nil).Fault(t, http.StatusBadRequest, "provider", "not-a-uuid")
		e.do(t, "GET", "providers/"+unknownID, nil).Fault(t, http.StatusNotFound, unknownID)
	})

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"limit=1", all[:1]},
		{"limit=5", all},
		{"marker=" + all[0], all[1:]},
		{"marker=" + all[0] + "&limit=1", all[1:]},
		{"marker=" + all[1], nil},
		{"marker=" + unknownID, all}, // an unknown marker is ignored (spec §1.3)
		{"name=" + url.QueryEscape("No-Op Provider"), []string{noopProvider}},
		{"name=nobody", nil},
	} {
		t.Run("list "+tc.query, func(t *testing.T) {
			if got := e.do(t, "GET", "providers?"+tc.query, nil).OK(t).IDs(t, "providers"); !slices.Equal(got, tc.want) {
				t.Errorf("providers %v, want %v", got, tc.want)
			}
		})
	}
	for _, limit := range []string{"0", "-1", "abc", "10abc", "1.5"} {
		e.do(t, "GET", "providers?limit="+limit, nil).Fault(t, http.StatusBadRequest, "limit")
	}
}
