package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/store"
)

var providersSpec = listSpec{key: "providers", path: "/providers", filters: []string{"name", "description"}}

// listProviders lists the enabled providers, by id; an unknown marker is
// ignored (spec §1.3); name and description filter exactly.
func (a *API) listProviders(r *http.Request, c *Caller) (any, error) {
	lq, err := a.parseListQuery(r, c, providersSpec)
	if err != nil {
		return nil, err
	}
	all := a.Providers.All()
	if i := slices.IndexFunc(all, func(p *provider.Provider) bool { return p.ID == lq.marker }); i >= 0 {
		all = all[i+1:]
	}
	out, ids := []any{}, []string{}
	for _, p := range all {
		v := providerView(p)
		if len(out) < lq.limit && matches(v, lq.filters, nil) {
			out = append(out, v)
			ids = append(ids, p.ID)
		}
	}
	return a.page(r, providersSpec, lq, out, ids), nil
}

func providerView(p *provider.Provider) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "description": p.Description,
		"extended_info_schema": p.ExtendedInfoSchema()}
}

func (a *API) providerParam(r *http.Request) (*provider.Provider, error) {
	id, err := uuidParam(r, "provider")
	if err != nil {
		return nil, err
	}
	p, err := a.Providers.Get(id)
	if err != nil {
		return nil, errorf(http.StatusNotFound, "Provider %s could not be found.", id)
	}
	return p, nil
}

func (a *API) showProvider(r *http.Request, c *Caller) (any, error) {
	p, err := a.providerParam(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"provider": providerView(p)}, nil
}

// jsonText is v as a JSON string (the API returns some objects as text).
func jsonText(v any) *string {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	s := string(data)
	return &s
}

// checkpointView is Karbor's checkpoint: resource_graph and extra_info are
// JSON strings. Pouch adds resources_status, resources_reason and progress.
func (a *API) checkpointView(r *http.Request, cp *model.Checkpoint) map[string]any {
	res := make([]map[string]any, len(cp.ProtectionPlan.Resources))
	for i, rs := range cp.ProtectionPlan.Resources {
		var extra *string
		if len(rs.ExtraInfo) > 0 {
			extra = jsonText(rs.ExtraInfo)
		}
		res[i] = map[string]any{"id": rs.ID, "type": rs.Type, "name": rs.Name, "extra_info": extra}
	}
	graph := cp.ResourceGraph
	if graph == "" {
		graph = "[{}, []]"
	}
	var extra *string
	if cp.ExtraInfo != nil {
		extra = jsonText(cp.ExtraInfo)
	}
	progress := cp.Progress
	if slices.Contains(busy, cp.Status) && cp.OperationID != "" {
		if st, err := a.Engine.OperationStatus(r.Context(), cp.OperationID); err == nil {
			progress = &st.Progress
		}
	}
	v := map[string]any{
		"id": cp.ID, "project_id": cp.ProjectID, "status": cp.Status,
		"protection_plan": map[string]any{"id": cp.ProtectionPlan.ID, "name": cp.ProtectionPlan.Name,
			"provider_id": cp.ProtectionPlan.ProviderID, "resources": res},
		"resource_graph": graph, "created_at": cp.CreatedAt, "extra_info": extra,
		"resources_status": orEmpty(cp.ResourcesStatus), "resources_reason": orEmpty(cp.ResourcesReason),
	}
	if progress != nil {
		v["progress"] = progress
	}
	return v
}

// busy are the statuses of a checkpoint an operation is working on.
var busy = []string{model.CheckpointProtecting, model.CheckpointDeleting, model.CheckpointCopying}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

type checkpointBody struct {
	PlanID     string         `json:"plan_id"`
	ExtraInfo  map[string]any `json:"extra-info"`
	ExtraInfo2 map[string]any `json:"extra_info"`
}

func (a *API) createCheckpoint(r *http.Request, c *Caller) (any, error) {
	p, err := a.providerParam(r)
	if err != nil {
		return nil, err
	}
	var b checkpointBody
	if err := decode(r, "checkpoint_create", "checkpoint", &b); err != nil {
		return nil, err
	}
	if b.PlanID == "" {
		return nil, errorf(http.StatusBadRequest, "Invalid input for checkpoint: plan_id is required.")
	}
	planID, err := uuid.Parse(b.PlanID)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid plan_id %q: not a UUID.", b.PlanID)
	}
	plan, err := a.plan(r, c, planID.String())
	if err != nil {
		return nil, err
	}
	if plan.ProviderID != p.ID {
		return nil, errorf(http.StatusBadRequest, "Plan %s belongs to provider %s, not %s.", plan.ID, plan.ProviderID, p.ID)
	}
	extra := b.ExtraInfo
	if extra == nil {
		extra = b.ExtraInfo2
	}
	if extra == nil {
		extra = map[string]any{"created_by": "manual"}
	}
	var cp *model.Checkpoint
	err = a.Quotas.Take(r.Context(), plan.ProjectID, store.QuotaCheckpoints, func() (err error) {
		cp, err = a.Engine.Protect(r.Context(), engine.ProtectRequest{Plan: plan, ExtraInfo: extra, Scope: scope(c)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"checkpoint": a.checkpointView(r, cp)}, nil
}

func (a *API) checkpointParam(r *http.Request, c *Caller) (*provider.Provider, *model.Checkpoint, error) {
	p, err := a.providerParam(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := uuidParam(r, "checkpoint")
	if err != nil {
		return nil, nil, err
	}
	cp, err := (&checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}).Get(r.Context(), id)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return nil, nil, errorf(http.StatusNotFound, "Checkpoint %s could not be found.", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if !a.allowed(r, c, cp.ProjectID) {
		return nil, nil, errorf(http.StatusForbidden, "Checkpoint %s belongs to another project.", id)
	}
	return p, cp, nil
}

func (a *API) showCheckpoint(r *http.Request, c *Caller) (any, error) {
	_, cp, err := a.checkpointParam(r, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"checkpoint": a.checkpointView(r, cp)}, nil
}

func (a *API) deleteCheckpoint(r *http.Request, c *Caller) (any, error) {
	p, cp, err := a.checkpointParam(r, c)
	if err != nil {
		return nil, err
	}
	if _, err := a.Engine.Delete(r.Context(), p.ID, cp.ID, scope(c), true); err != nil {
		return nil, err
	}
	// As Karbor, the quota is given back when the delete starts.
	if err := a.Quotas.Reserve(r.Context(), cp.ProjectID, store.QuotaCheckpoints, -1); err != nil {
		a.Log.WarnContext(r.Context(), "quota not given back", "checkpoint", cp.ID, "err", err)
	}
	return map[string]any{}, nil
}

var checkpointsSpec = listSpec{key: "checkpoints", path: "/checkpoints",
	filters: []string{"project_id", "plan_id", "start_date", "end_date"}}

// listCheckpoints lists from the bank's indices: by plan, by date or by
// provider, newest first unless sorted asc. Deleted checkpoints are not
// listed; project_id counts only for an admin listing all tenants.
func (a *API) listCheckpoints(r *http.Request, c *Caller) (any, error) {
	p, err := a.providerParam(r)
	if err != nil {
		return nil, err
	}
	lq, err := a.parseListQuery(r, c, checkpointsSpec)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	o := checkpoint.ListOptions{ProjectID: c.ProjectID, PlanID: q.Get("plan_id"), StartDate: q.Get("start_date"),
		EndDate: q.Get("end_date"), Marker: lq.marker, Limit: lq.limit, AllTenants: lq.allTenants}
	if pid := q.Get("project_id"); pid != "" && lq.allTenants {
		if !validProjectID(pid) {
			return nil, errorf(http.StatusBadRequest, "Invalid project_id %q.", pid)
		}
		o.ProjectID, o.AllTenants = pid, false
	}
	if lq.sort[0].asc {
		o.Sort = "asc"
	}
	for name, d := range map[string]string{"start_date": o.StartDate, "end_date": o.EndDate} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid %s %q: expected a date YYYY-MM-DD.", name, d)
		}
	}
	if o.PlanID != "" {
		id, err := uuid.Parse(o.PlanID)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid plan_id %q: not a UUID.", o.PlanID)
		}
		o.PlanID = id.String()
	}
	if o.StartDate == "" {
		o.EndDate = "" // Karbor ignores end_date alone
	}
	cps, err := (&checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}).List(r.Context(), o)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(cps))
	ids := make([]string, len(cps))
	for i, cp := range cps {
		out[i] = a.checkpointView(r, cp)
		ids[i] = cp.ID
	}
	return a.page(r, checkpointsSpec, lq, out, ids), nil
}

type resetBody struct {
	State string `json:"state"`
}

// resetCheckpoint is Karbor's os-resetState: an operator sets a stuck or
// failed checkpoint to available or error. 200 {}.
func (a *API) resetCheckpoint(r *http.Request, c *Caller) (any, error) {
	var b resetBody
	if err := decode(r, "checkpoint_reset", "os-resetState", &b); err != nil {
		return nil, err
	}
	p, cp, err := a.checkpointParam(r, c)
	if err != nil {
		return nil, err
	}
	if err := a.Engine.ResetState(r.Context(), p.ID, cp.ID, b.State, scope(c), true); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

type copyBody struct {
	PlanID     string           `json:"plan_id"`
	Parameters model.Parameters `json:"parameters"`
}

// copyCheckpoints copies every available checkpoint of a plan within its
// provider (Karbor's copy action; no in-tree Karbor plugin could copy, Pouch's
// can).
func (a *API) copyCheckpoints(r *http.Request, c *Caller) (any, error) {
	p, err := a.providerParam(r)
	if err != nil {
		return nil, err
	}
	var b copyBody
	if err := decode(r, "checkpoint_copy", "copy", &b); err != nil {
		return nil, err
	}
	planID, err := uuid.Parse(b.PlanID)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid plan_id %q: not a UUID.", b.PlanID)
	}
	if b.Parameters == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid input for copy: parameters is required (it may be {}).")
	}
	if err := checkParameters(b.Parameters); err != nil {
		return nil, err
	}
	plan, err := owned(a, r, c, a.Store.Plans, planID.String(), "Plan", http.StatusNotFound)
	if err != nil {
		return nil, err
	}
	if plan.ProviderID != p.ID {
		return nil, errorf(http.StatusBadRequest, "Plan %s belongs to provider %s, not %s.", plan.ID, plan.ProviderID, p.ID)
	}
	pairs, err := a.Engine.Copy(r.Context(), plan, b.Parameters)
	if err != nil {
		return nil, err
	}
	return map[string]any{"copy": map[string]any{"project_id": plan.ProjectID, "provider_id": p.ID,
		"plan_id": plan.ID, "checkpoint_id": pairs, "parameters": b.Parameters}}, nil
}
