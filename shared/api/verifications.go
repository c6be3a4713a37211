package api

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/store"
)

type verificationBody struct {
	ProviderID   string           `json:"provider_id"`
	CheckpointID string           `json:"checkpoint_id"`
	Parameters   model.Parameters `json:"parameters"`
}

func verificationView(v *model.Verification) map[string]any {
	params := v.Parameters
	if params == nil {
		params = model.Parameters{}
	}
	out := map[string]any{"id": v.ID, "project_id": v.ProjectID, "provider_id": v.ProviderID,
		"checkpoint_id": v.CheckpointID, "parameters": params, "status": v.Status,
		"resources_status": orEmpty(v.ResourcesStatus), "resources_reason": orEmpty(v.ResourcesReason)}
	if v.Progress != nil {
		out["progress"] = v.Progress
	}
	return out
}

// createVerification checks a checkpoint's data: the record is created
// first (in_progress); a failure to start is status "fail" with 200, as
// for restores. Unlike Karbor, parameters are accepted (Karbor validated
// them against a schema no provider published) and the checkpoint must
// belong to the caller's project.
func (a *API) createVerification(r *http.Request, c *Caller) (any, error) {
	var b verificationBody
	if err := decode(r, "verification_create", "verification", &b); err != nil {
		return nil, err
	}
	pid, cid, err := providerAndCheckpoint(b.ProviderID, b.CheckpointID)
	if err != nil {
		return nil, err
	}
	if err := checkParameters(b.Parameters); err != nil {
		return nil, err
	}
	now := a.Now().UTC()
	v := &model.Verification{ID: uuid.NewString(), ProjectID: c.ProjectID, ProviderID: pid, CheckpointID: cid,
		Parameters: b.Parameters, Status: model.RestoreInProgress, CreatedAt: now, UpdatedAt: now}
	v, err = startRecorded(a, r, a.Store.Verifications, v, v.ID,
		func() error { return a.Engine.Verify(r.Context(), v, scope(c), c.IsAdmin) },
		func(v *model.Verification, err error) {
			v.Status = model.RestoreFail
			v.ResourcesReason = map[string]string{"verification": err.Error()}
		})
	if err != nil {
		return nil, err
	}
	return map[string]any{"verification": verificationView(v)}, nil
}

// startRecorded creates the record of a restore or verification, then
// starts its operation. A failure to start marks the record failed and is
// still a success for the caller (Karbor's behaviour), except a checkpoint
// of another project (403).
func startRecorded[T any](a *API, r *http.Request, t *store.Table[T], rec *T, id string, start func() error, failed func(*T, error)) (*T, error) {
	if err := t.Create(r.Context(), rec); err != nil {
		return nil, err
	}
	err := start()
	if err == nil {
		return rec, nil
	}
	a.Log.WarnContext(r.Context(), "operation did not start", "record", id, "err", err)
	rec, uerr := t.Update(r.Context(), id, func(v *T) error {
		failed(v, err)
		return nil
	})
	if uerr != nil {
		return nil, uerr
	}
	if errors.Is(err, engine.ErrForbidden) {
		return nil, err
	}
	return rec, nil
}

// providerAndCheckpoint checks the ids of a restore or verification body.
func providerAndCheckpoint(providerID, checkpointID string) (string, string, error) {
	pid, err := uuid.Parse(providerID)
	if err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid provider_id %q: not a UUID.", providerID)
	}
	cid, err := uuid.Parse(checkpointID)
	if err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid checkpoint_id %q: not a UUID.", checkpointID)
	}
	return pid.String(), cid.String(), nil
}

func (a *API) showVerification(r *http.Request, c *Caller) (any, error) {
	return showRecord(a, r, c, a.Store.Verifications, "verification", "Verification", func(v *model.Verification) map[string]any {
		if v.Status == model.RestoreInProgress && v.OperationID != "" {
			if st, err := a.Engine.OperationStatus(r.Context(), v.OperationID); err == nil {
				v.Progress = &st.Progress
			}
		}
		return verificationView(v)
	})
}

func (a *API) listVerifications(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.Verifications, listSpec{key: "verifications", path: "/verifications",
		filters: []string{"status"}, offset: true}, verificationView)
}
