package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/store"
)

type planBody struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	ProviderID  string           `json:"provider_id"`
	Parameters  model.Parameters `json:"parameters"`
	Resources   []model.Resource `json:"resources"`
	Status      *string          `json:"status"`
}

// planJSON is Karbor's plan view: no project_id, no times.
type planJSON struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description *string          `json:"description"`
	Resources   []model.Resource `json:"resources"` // extra_info only when not empty
	ProviderID  string           `json:"provider_id"`
	Status      string           `json:"status"`
	Parameters  model.Parameters `json:"parameters"`
}

func planView(p *model.Plan) planJSON {
	// Karbor stores parameter values as strings and returns them so (spec
	// §2.2, §12 item 11); the plan keeps them typed for the plugins.
	params := model.Parameters{}
	for k, opts := range p.Parameters {
		if opts == nil {
			params[k] = nil
			continue
		}
		params[k] = map[string]any{}
		for name, v := range opts {
			params[k][name] = pythonStr(v)
		}
	}
	res := p.Resources
	if res == nil {
		res = []model.Resource{}
	}
	return planJSON{ID: p.ID, Name: p.Name, Description: p.Description, Resources: res,
		ProviderID: p.ProviderID, Status: p.Status, Parameters: params}
}

// pythonStr is a parameter value (string, integer or boolean) as Python's
// str() writes it.
func pythonStr(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

var paramKey = regexp.MustCompile(`^[a-zA-Z0-9-_:.# ]{1,255}$`)

// checkParameters applies Karbor's parameters rules: keys "<type>" or
// "<type>#<uuid>", values flat maps of strings, integers and booleans.
func checkParameters(p model.Parameters) error {
	for k, opts := range p {
		if !paramKey.MatchString(k) {
			return errorf(http.StatusBadRequest, "Invalid parameters key %q.", k)
		}
		if t, id, ok := strings.Cut(k, "#"); ok {
			if _, err := uuid.Parse(id); err != nil || t == "" {
				return errorf(http.StatusBadRequest, "Invalid parameters key %q: expected <type>#<uuid>.", k)
			}
		}
		for name, v := range opts {
			if !paramKey.MatchString(name) {
				return errorf(http.StatusBadRequest, "Invalid parameter name %q in %q.", name, k)
			}
			switch v.(type) {
			case string, bool, float64:
				if f, ok := v.(float64); ok && f != float64(int64(f)) {
					return errorf(http.StatusBadRequest, "Parameter %s.%s must be a string, an integer or a boolean.", k, name)
				}
			default:
				return errorf(http.StatusBadRequest, "Parameter %s.%s must be a string, an integer or a boolean.", k, name)
			}
		}
	}
	return nil
}

func checkResources(rs []model.Resource) error {
	if len(rs) == 0 {
		return errorf(http.StatusBadRequest, "Invalid resources: a plan needs at least one resource.")
	}
	for i, r := range rs {
		if r.ID == "" || r.Type == "" || r.Name == "" {
			return errorf(http.StatusBadRequest, "Invalid resources[%d]: id, type and name are required.", i)
		}
	}
	return nil
}

func checkName(name *string) error {
	if name == nil || strings.TrimSpace(*name) == "" || len(*name) > 255 {
		return errorf(http.StatusBadRequest, "Invalid name: a name of 1 to 255 characters, not blank, is required.")
	}
	return nil
}

func checkDescription(d *string) error {
	if d != nil && len(*d) > 255 {
		return errorf(http.StatusBadRequest, "Invalid description: at most 255 characters.")
	}
	return nil
}

// checkParameterTypes checks that every parameters key names a known type.
func (a *API) checkParameterTypes(p model.Parameters) error {
	types := a.protectableTypes()
	for k := range p {
		if t, _, _ := strings.Cut(k, "#"); !slices.Contains(types, t) {
			return errorf(http.StatusBadRequest, "Invalid parameters key %q: unknown resource type %q.", k, t)
		}
	}
	return nil
}

func (a *API) createPlan(r *http.Request, c *Caller) (any, error) {
	var b planBody
	if err := decode(r, "plan_create", "plan", &b); err != nil {
		return nil, err
	}
	if err := checkName(b.Name); err != nil {
		return nil, err
	}
	if err := checkDescription(b.Description); err != nil {
		return nil, err
	}
	if b.Parameters == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid input for plan: parameters is required (it may be {}).")
	}
	if err := checkParameters(b.Parameters); err != nil {
		return nil, err
	}
	if err := a.checkParameterTypes(b.Parameters); err != nil {
		return nil, err
	}
	if err := checkResources(b.Resources); err != nil {
		return nil, err
	}
	pid, err := uuid.Parse(b.ProviderID)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid provider_id %q: not a UUID.", b.ProviderID)
	}
	p, err := a.Providers.Get(pid.String())
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "The provider could not be found.")
	}
	if err := a.Engine.ValidateResources(r.Context(), p, model.OpProtect, b.Resources); err != nil {
		return nil, err
	}
	now := a.Now().UTC()
	plan := &model.Plan{ID: uuid.NewString(), Name: *b.Name, Description: b.Description, ProviderID: p.ID,
		ProjectID: c.ProjectID, Status: model.PlanSuspended, Resources: b.Resources, Parameters: b.Parameters,
		CreatedAt: now, UpdatedAt: now}
	err = a.Quotas.Take(r.Context(), c.ProjectID, store.QuotaPlans, func() error { return a.Store.Plans.Create(r.Context(), plan) })
	if err != nil {
		return nil, err
	}
	return map[string]any{"plan": planView(plan)}, nil
}

// plan reads a plan the caller may see.
func (a *API) plan(r *http.Request, c *Caller, id string) (*model.Plan, error) {
	return owned(a, r, c, a.Store.Plans, id, "Plan", http.StatusNotFound)
}

func (a *API) showPlan(r *http.Request, c *Caller) (any, error) {
	return showRecord(a, r, c, a.Store.Plans, "plan", "Plan", planView)
}

func (a *API) updatePlan(r *http.Request, c *Caller) (any, error) {
	id, err := uuidParam(r, "plan")
	if err != nil {
		return nil, err
	}
	var b planBody
	if err := decode(r, "plan_update", "plan", &b); err != nil {
		return nil, err
	}
	if b.Name == nil && b.Description == nil && b.Status == nil && b.Resources == nil {
		return nil, errorf(http.StatusBadRequest, "Missing updated parameters in request body.")
	}
	if b.Name != nil {
		if err := checkName(b.Name); err != nil {
			return nil, err
		}
	}
	if err := checkDescription(b.Description); err != nil {
		return nil, err
	}
	if len(b.Resources) > 0 {
		if err := checkResources(b.Resources); err != nil {
			return nil, err
		}
	}
	cur, err := a.plan(r, c, id)
	if err != nil {
		return nil, err
	}
	if len(b.Resources) > 0 {
		p, err := a.Providers.Get(cur.ProviderID)
		if err != nil {
			return nil, err
		}
		if err := a.Engine.ValidateResources(r.Context(), p, model.OpProtect, b.Resources); err != nil {
			return nil, err
		}
	}
	p, err := a.Store.Plans.Update(r.Context(), id, func(p *model.Plan) error {
		if p.Status != model.PlanSuspended {
			return errorf(http.StatusBadRequest, "The plan can be only updated in suspended status.")
		}
		if b.Name != nil {
			p.Name = *b.Name
		}
		if b.Description != nil {
			p.Description = b.Description
		}
		if b.Status != nil {
			p.Status = *b.Status
		}
		if b.Resources != nil {
			p.Resources = b.Resources
		}
		p.UpdatedAt = a.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"plan": planView(p)}, nil
}

func (a *API) deletePlan(r *http.Request, c *Caller) (any, error) {
	id, err := uuidParam(r, "plan")
	if err != nil {
		return nil, err
	}
	plan, err := a.plan(r, c, id)
	if err != nil {
		return nil, err
	}
	if err := a.Store.Plans.Delete(r.Context(), id); err != nil {
		return nil, err
	}
	return nil, a.Quotas.Reserve(r.Context(), plan.ProjectID, store.QuotaPlans, -1)
}

func (a *API) listPlans(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.Plans, listSpec{key: "plans", path: "/plans",
		filters: []string{"name", "status", "description"}, regex: []string{"name", "description"}, offset: true}, planView)
}
