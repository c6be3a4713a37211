package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// protectableTypes are the catalog's types and every type a provider's
// plugins handle.
func (a *API) protectableTypes() []string {
	types := a.Catalog.Types()
	for _, p := range a.Providers.All() {
		for _, t := range p.ResourceTypes() {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	slices.Sort(types)
	return types
}

func (a *API) typeParam(r *http.Request) (string, error) {
	t := r.PathValue("type")
	if !slices.Contains(a.protectableTypes(), t) {
		return "", errorf(http.StatusBadRequest, "Invalid protectable type provided: %q.", t)
	}
	return t, nil
}

func (a *API) listProtectables(r *http.Request, c *Caller) (any, error) {
	return map[string]any{"protectable_type": a.protectableTypes()}, nil
}

func (a *API) showProtectable(r *http.Request, c *Caller) (any, error) {
	t, err := a.typeParam(r)
	if err != nil {
		return nil, err
	}
	deps := a.Catalog.DependentTypes(t)
	if deps == nil {
		deps = []string{}
	}
	return map[string]any{"protectable_type": map[string]any{"name": t, "dependent_types": deps}}, nil
}

func instanceView(r model.Resource, deps []model.Resource) map[string]any {
	v := map[string]any{"id": r.ID, "type": r.Type, "name": r.Name, "extra_info": nilIfEmpty(r.ExtraInfo)}
	if deps != nil {
		dv := make([]any, len(deps))
		for i, d := range deps {
			dv[i] = map[string]any{"id": d.ID, "type": d.Type, "name": d.Name, "extra_info": nilIfEmpty(d.ExtraInfo)}
		}
		v["dependent_resources"] = dv
	}
	return v
}

func nilIfEmpty(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (a *API) listInstances(r *http.Request, c *Caller) (any, error) {
	t, err := a.typeParam(r)
	if err != nil {
		return nil, err
	}
	s := scope(c)
	rs, err := a.Catalog.List(r.Context(), s, t)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(rs))
	for i, res := range rs {
		deps, err := a.Catalog.Dependents(r.Context(), s, res)
		if err != nil {
			return nil, err
		}
		out[i] = instanceView(res, orNone(deps))
	}
	return map[string]any{"instances": out}, nil
}

func orNone(rs []model.Resource) []model.Resource {
	if rs == nil {
		return []model.Resource{}
	}
	return rs
}

func (a *API) showInstance(r *http.Request, c *Caller) (any, error) {
	t, err := a.typeParam(r)
	if err != nil {
		return nil, err
	}
	s := scope(c)
	if p := r.URL.Query().Get("parameters"); p != "" {
		s.Parameters, err = parseLiteralDict(p)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid parameters %q: %v", p, err)
		}
	}
	res, err := a.Catalog.Show(r.Context(), s, t, r.PathValue("id"))
	if errors.Is(err, protection.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "The instance %s of type %s could not be found.", r.PathValue("id"), t)
	}
	if err != nil {
		return nil, err
	}
	deps, err := a.Catalog.Dependents(r.Context(), s, res)
	if err != nil {
		return nil, err
	}
	return map[string]any{"instance": instanceView(res, orNone(deps))}, nil
}

// karborTime formats a time as Karbor's DB datetimes: UTC, no zone.
func karborTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000000")
	return &s
}
