package engine

import (
	"context"
	"fmt"
	"maps"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/graph"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// CopyStatusFinished marks, in a copy's extra_info copy_status, a checkpoint
// that is itself a finished copy (Karbor's constant).
const CopyStatusFinished = "finished"

// CopyPair is one copy started: the checkpoint copied and its copy.
type CopyPair struct {
	ProtectID string `json:"checkpoint_protect_id"`
	CopyID    string `json:"checkpoint_copy_id"`
}

// Copy copies every available checkpoint of plan that is not itself a
// finished copy into a new checkpoint of the same provider (status
// wait_copying, then copying, then available or error). The plugins copy
// their resources' data.
func (e *Engine) Copy(ctx context.Context, plan *model.Plan, params model.Parameters) ([]CopyPair, error) {
	p, err := e.provider(plan.ProviderID)
	if err != nil {
		return nil, err
	}
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	all, err := col.List(ctx, checkpoint.ListOptions{ProjectID: plan.ProjectID, PlanID: plan.ID})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: the plan has not been protected", ErrInvalid)
	}
	var sources []*model.Checkpoint
	for _, cp := range all {
		if cp.Status == model.CheckpointAvailable && fmt.Sprint(cp.ExtraInfo["copy_status"]) != CopyStatusFinished {
			sources = append(sources, cp)
		}
	}
	pairs := []CopyPair{}
	for _, src := range sources {
		g, err := graph.Parse(src.ResourceGraph)
		if err != nil {
			return pairs, fmt.Errorf("checkpoint %s: %w", src.ID, err)
		}
		if err := e.ValidateResources(ctx, p, model.OpCopy, g.Resources()); err != nil {
			return pairs, err
		}
		id, err := e.copyOne(ctx, col, src, g, params)
		if err != nil {
			return pairs, err
		}
		pairs = append(pairs, CopyPair{ProtectID: src.ID, CopyID: id})
	}
	return pairs, nil
}

func (e *Engine) copyOne(ctx context.Context, col *checkpoint.Collection, src *model.Checkpoint, g *graph.Graph, params model.Parameters) (string, error) {
	p, err := e.provider(col.ProviderID)
	if err != nil {
		return "", err
	}
	op := e.newOperation(model.OpCopy, p, src.ProjectID, protection.Scope{})
	op.SourceCheckpointID, op.PlanID, op.Parameters = src.ID, src.ProtectionPlan.ID, params
	if err := e.guard(ctx, src.ID, op.ID, false); err != nil {
		return "", err
	}
	started := false
	defer func() {
		if !started {
			e.unguard(ctx, src.ID, op.ID, false)
			e.abandon(ctx, p, op.ID)
		}
	}()
	extra := maps.Clone(src.ExtraInfo)
	if extra == nil {
		extra = map[string]any{}
	}
	extra["copy_from"] = src.ID
	cp := &model.Checkpoint{
		ID: uuid.NewString(), Status: model.CheckpointWaitCopying, OwnerID: op.ID, ProjectID: src.ProjectID,
		ProtectionPlan: src.ProtectionPlan, ExtraInfo: extra, ResourceGraph: src.ResourceGraph, OperationID: op.ID,
	}
	op.CheckpointID = cp.ID
	if err := e.acquire(ctx, p, op); err != nil {
		return "", err
	}
	if err := col.Create(ctx, cp, op.StartedAt); err != nil {
		return "", err
	}
	cp.Status = model.CheckpointCopying
	if err := col.Update(ctx, cp); err != nil {
		return "", err
	}
	if err := e.start(ctx, op, g, model.CheckpointCopying); err != nil {
		cp.Status = model.CheckpointError
		cp.ResourcesReason = map[string]string{"operation": err.Error()}
		if uerr := col.Update(ctx, cp); uerr != nil {
			e.log.ErrorContext(ctx, "copy left copying", "checkpoint", cp.ID, "err", uerr)
		}
		return "", err
	}
	started = true
	return cp.ID, nil
}
