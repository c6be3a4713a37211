package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/store"
)

type restoreBody struct {
	ProviderID    string           `json:"provider_id"`
	CheckpointID  string           `json:"checkpoint_id"`
	Parameters    model.Parameters `json:"parameters"`
	RestoreTarget *string          `json:"restore_target"`
	RestoreAuth   map[string]any   `json:"restore_auth"`
}

func restoreView(rs *model.Restore) map[string]any {
	params := rs.Parameters
	if params == nil {
		params = model.Parameters{}
	}
	v := map[string]any{"id": rs.ID, "project_id": rs.ProjectID, "provider_id": rs.ProviderID,
		"checkpoint_id": rs.CheckpointID, "restore_target": rs.RestoreTarget, "parameters": params,
		"status": rs.Status, "resources_status": orEmpty(rs.ResourcesStatus), "resources_reason": orEmpty(rs.ResourcesReason)}
	if rs.Progress != nil {
		v["progress"] = rs.Progress
	}
	return v
}

// withLiveProgress fills in a running restore's progress from its operation.
func (a *API) withLiveProgress(r *http.Request, rs *model.Restore) *model.Restore {
	if rs.Status == model.RestoreInProgress && rs.OperationID != "" {
		if st, err := a.Engine.OperationStatus(r.Context(), rs.OperationID); err == nil {
			rs.Progress = &st.Progress
		}
	}
	return rs
}

// createRestore follows Karbor: the restore record is created first; a
// failure to start is reported as status "fail" with 200, except a
// checkpoint of another project (403).
func (a *API) createRestore(r *http.Request, c *Caller) (any, error) {
	var b restoreBody
	if err := decode(r, "restore_create", "restore", &b); err != nil {
		return nil, err
	}
	pid, cid, err := providerAndCheckpoint(b.ProviderID, b.CheckpointID)
	if err != nil {
		return nil, err
	}
	if b.Parameters == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid input for restore: parameters is required (it may be {}).")
	}
	if err := checkParameters(b.Parameters); err != nil {
		return nil, err
	}
	now := a.Now().UTC()
	rs := &model.Restore{ID: uuid.NewString(), ProjectID: c.ProjectID, ProviderID: pid, CheckpointID: cid,
		RestoreTarget: b.RestoreTarget, Parameters: b.Parameters, Status: model.RestoreInProgress,
		ResourcesStatus: map[string]string{}, ResourcesReason: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	rs, err = startRecorded(a, r, a.Store.Restores, rs, rs.ID,
		func() error {
			s, err := a.restoreScope(r.Context(), c, pid, b)
			if err != nil {
				return err
			}
			return a.Engine.Restore(r.Context(), rs, s, c.IsAdmin)
		},
		func(rs *model.Restore, err error) {
			rs.Status = model.RestoreFail
			rs.ResourcesReason = map[string]string{"restore": err.Error()}
		})
	if err != nil {
		return nil, err
	}
	return map[string]any{"restore": restoreView(rs)}, nil
}

func (a *API) showRestore(r *http.Request, c *Caller) (any, error) {
	return showRecord(a, r, c, a.Store.Restores, "restore", "Restore", func(rs *model.Restore) map[string]any {
		return restoreView(a.withLiveProgress(r, rs))
	})
}

func (a *API) listRestores(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.Restores, listSpec{key: "restores", path: "/restores",
		filters: []string{"status"}, offset: true}, restoreView)
}

func (a *API) listOperationLogs(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.OperationLogs, listSpec{key: "operation_logs", path: "/operation_logs",
		filters: []string{"checkpoint_id", "plan_id", "restore_id", "status"}, offset: true}, operationLogView)
}

func operationLogView(l *model.OperationLog) map[string]any {
	return map[string]any{"id": l.ID, "operation_type": l.OperationType, "checkpoint_id": l.CheckpointID,
		"plan_id": l.PlanID, "provider_id": l.ProviderID, "restore_id": l.RestoreID,
		"scheduled_operation_id": l.ScheduledOperationID, "status": l.Status,
		"started_at": karborTime(l.StartedAt), "ended_at": karborTime(l.EndedAt),
		"error_info": l.ErrorInfo, "extra_info": l.ExtraInfo}
}

func (a *API) showOperationLog(r *http.Request, c *Caller) (any, error) {
	return showRecord(a, r, c, a.Store.OperationLogs, "operation_log", "Operation log", operationLogView)
}

// owned reads a record the caller may see under the route's policy rule.
// A record the caller may not see is reported with status hidden: 404 for
// most kinds (as if it did not exist), 403 for triggers and scheduled
// operations (spec §9.1).
func owned[T any](a *API, r *http.Request, c *Caller, t *store.Table[T], id, what string, hidden int) (*T, error) {
	v, err := t.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "%s %s could not be found.", what, id)
	}
	if err != nil {
		return nil, err
	}
	if !a.allowed(r, c, t.ProjectOf(v)) {
		if hidden == http.StatusForbidden {
			return nil, errorf(hidden, "%s %s belongs to another project.", what, id)
		}
		return nil, errorf(http.StatusNotFound, "%s %s could not be found.", what, id)
	}
	return v, nil
}

// showRecord serves GET .../{key}: {"<key>": view(record)}.
func showRecord[T, V any](a *API, r *http.Request, c *Caller, t *store.Table[T], key, what string, view func(*T) V) (any, error) {
	id, err := uuidParam(r, key)
	if err != nil {
		return nil, err
	}
	v, err := owned(a, r, c, t, id, what, http.StatusNotFound)
	if err != nil {
		return nil, err
	}
	return map[string]any{key: view(v)}, nil
}

// restoreScope is who a restore acts as: the caller, or, for a provider
// whose plugins act in a cloud and a restore_target that is a Keystone URL
// with restore_auth, a token of that Keystone (so that no password is kept).
func (a *API) restoreScope(ctx context.Context, c *Caller, providerID string, b restoreBody) (protection.Scope, error) {
	s := scope(c)
	if b.RestoreTarget == nil || b.RestoreAuth == nil || !isURL(*b.RestoreTarget) || !a.actsInCloud(providerID) {
		return s, nil
	}
	tok, err := auth.LoginFrom(*b.RestoreTarget, b.RestoreAuth, c.ProjectID).Token(ctx, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return s, fmt.Errorf("restore_auth: %w", err)
	}
	s.AuthToken, s.AuthURL = tok, *b.RestoreTarget
	return s, nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// actsInCloud reports whether a plugin of the provider acts in a cloud.
func (a *API) actsInCloud(providerID string) bool {
	p, err := a.Providers.Get(providerID)
	if err != nil {
		return false
	}
	for _, t := range p.ResourceTypes() {
		if pl, ok := p.Plugin(t); ok {
			if _, ok := pl.(protection.CloudPlugin); ok {
				return true
			}
		}
	}
	return false
}
