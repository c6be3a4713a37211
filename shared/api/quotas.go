package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"

	"github.com/pouchdp/pouch/shared/store"
)

// projectIDPattern: Keystone's ids are 32 hex digits; noauth projects are
// whatever the token says, so any plain name is accepted.
var projectIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// validProjectID reports whether id can name a project (and a bank path
// segment).
func validProjectID(id string) bool {
	return projectIDPattern.MatchString(id) && id != "." && id != ".."
}

// quotaProject reads the project of a quota route and applies the route's
// rule to it: a non-admin may only read their own project's quotas (403).
func (a *API) quotaProject(r *http.Request, c *Caller) (string, error) {
	p := r.PathValue("quota_project")
	if !validProjectID(p) {
		return "", errorf(http.StatusBadRequest, "Invalid project id %q.", p)
	}
	if !a.allowed(r, c, p) {
		return "", errorf(http.StatusForbidden, "Policy doesn't allow reading the quotas of project %s.", p)
	}
	return p, nil
}

func quotaView(limits map[string]int64, id string) map[string]any {
	v := map[string]any{}
	for _, res := range store.QuotaResources {
		v[res] = limits[res]
	}
	if id != "" {
		v["id"] = id
	}
	return v
}

func (a *API) showQuota(r *http.Request, c *Caller) (any, error) {
	p, err := a.quotaProject(r, c)
	if err != nil {
		return nil, err
	}
	limits, err := a.Quotas.Limits(r.Context(), p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"quota": quotaView(limits, p)}, nil
}

func (a *API) showQuotaDefaults(r *http.Request, c *Caller) (any, error) {
	p, err := a.quotaProject(r, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"quota": quotaView(a.Quotas.Defaults, p)}, nil
}

func (a *API) showQuotaDetail(r *http.Request, c *Caller) (any, error) {
	p, err := a.quotaProject(r, c)
	if err != nil {
		return nil, err
	}
	limits, err := a.Quotas.Limits(r.Context(), p)
	if err != nil {
		return nil, err
	}
	usage, err := a.Quotas.Usage(r.Context(), p)
	if err != nil {
		return nil, err
	}
	v := map[string]any{"id": p}
	for _, res := range store.QuotaResources {
		v[res] = map[string]any{"limit": limits[res], "in_use": usage[res], "reserved": 0}
	}
	return map[string]any{"quota": v}, nil
}

// quotaLimits reads Karbor's flat quota body: known resources as integers
// (or strings or booleans that convert), at least -1; other keys ignored.
func quotaLimits(body map[string]any) (map[string]int64, error) {
	out := map[string]int64{}
	for _, res := range store.QuotaResources {
		v, ok := body[res]
		if !ok {
			continue
		}
		n, err := quotaInt(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid quota %s: %v.", res, err)
		}
		if n < -1 {
			return nil, errorf(http.StatusBadRequest, "Invalid quota %s: %d is less than -1 (unlimited).", res, n)
		}
		out[res] = n
	}
	return out, nil
}

func quotaInt(v any) (int64, error) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", v)
		}
		return int64(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func (a *API) updateQuota(r *http.Request, c *Caller) (any, error) {
	p, err := a.quotaProject(r, c)
	if err != nil {
		return nil, err
	}
	return updateLimits(r, "quota_update", "quota",
		func(ctx context.Context, l map[string]int64) error { return a.Quotas.SetProject(ctx, p, l) },
		func(ctx context.Context) (map[string]int64, error) { return a.Quotas.Limits(ctx, p) })
}

// updateLimits reads Karbor's flat quota body under wrapper, stores it with
// set and answers {"<wrapper>": limits} as get reads them back (no id).
func updateLimits(r *http.Request, schema, wrapper string, set func(context.Context, map[string]int64) error,
	get func(context.Context) (map[string]int64, error)) (any, error) {
	var body map[string]any
	if err := decode(r, schema, wrapper, &body); err != nil {
		return nil, err
	}
	limits, err := quotaLimits(body)
	if err != nil {
		return nil, err
	}
	if err := set(r.Context(), limits); err != nil {
		return nil, err
	}
	eff, err := get(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{wrapper: quotaView(eff, "")}, nil
}

func (a *API) deleteQuota(r *http.Request, c *Caller) (any, error) {
	p, err := a.quotaProject(r, c)
	if err != nil {
		return nil, err
	}
	return nil, a.Quotas.DeleteProject(r.Context(), p)
}

func quotaClassParam(r *http.Request) (string, error) {
	name := r.PathValue("class")
	if !validProjectID(name) {
		return "", errorf(http.StatusBadRequest, "Invalid quota class name %q.", name)
	}
	return name, nil
}

func (a *API) showQuotaClass(r *http.Request, c *Caller) (any, error) {
	name, err := quotaClassParam(r)
	if err != nil {
		return nil, err
	}
	limits, err := a.Quotas.Class(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"quota_class": quotaView(limits, name)}, nil
}

func (a *API) updateQuotaClass(r *http.Request, c *Caller) (any, error) {
	name, err := quotaClassParam(r)
	if err != nil {
		return nil, err
	}
	return updateLimits(r, "quota_class_update", "quota_class",
		func(ctx context.Context, l map[string]int64) error { return a.Quotas.SetClass(ctx, name, l) },
		func(ctx context.Context) (map[string]int64, error) { return a.Quotas.Class(ctx, name) })
}
