package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// resettable are the statuses os-resetState accepts (spec §2.3).
var resettable = []string{model.CheckpointAvailable, model.CheckpointError, model.CheckpointCopying,
	model.CheckpointWaitCopying, CopyStatusFinished}

// ResetState sets a checkpoint's status to available or error, as an
// operator does after a failure (Karbor's os-resetState). It is refused
// while a delete or restore holds the checkpoint.
func (e *Engine) ResetState(ctx context.Context, providerID, checkpointID, status string, s protection.Scope, isAdmin bool) error {
	if status != model.CheckpointAvailable && status != model.CheckpointError {
		return fmt.Errorf("%w: state must be available or error, not %q", ErrInvalid, status)
	}
	p, err := e.provider(providerID)
	if err != nil {
		return err
	}
	opID := "reset-" + uuid.NewString()
	// A reset holds the guard for one read and one write: if this process
	// dies meanwhile, the hold lapses by itself.
	if err := e.guardFor(ctx, checkpointID, opID, true, time.Minute); err != nil {
		return err
	}
	defer e.unguard(ctx, checkpointID, opID, true)
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	cp, err := col.Get(ctx, checkpointID)
	if err != nil {
		return notFound(err)
	}
	if !isAdmin && cp.ProjectID != s.ProjectID {
		return fmt.Errorf("%w: checkpoint %s belongs to another project", ErrForbidden, cp.ID)
	}
	if !slices.Contains(resettable, cp.Status) {
		return fmt.Errorf("%w: checkpoint %s is %s; only a checkpoint in %v can be reset", ErrInvalid, cp.ID, cp.Status, resettable)
	}
	e.log.InfoContext(ctx, "checkpoint state reset", "checkpoint", cp.ID, "from", cp.Status, "to", status)
	cp.Status, cp.UpdatedAt = status, e.now().UTC()
	return col.Update(ctx, cp)
}
