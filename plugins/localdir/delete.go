package localdir

import (
	"context"
	"fmt"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/protection"
)

// delete is the main hook of delete: remove every object of the resource
// from the checkpoint, leaving none.
func (p *Plugin) delete(ctx context.Context, hc *protection.HookContext) error {
	if err := checkIdentity(hc.Resource); err != nil {
		return err
	}
	prefix := hc.DataPrefix()
	if err := bank.DeletePrefix(ctx, hc.Bank, prefix); err != nil {
		return fmt.Errorf("delete backup of %s: %w", hc.Resource.Name, transientIf(err))
	}
	left, err := hc.Bank.List(ctx, bank.ListOptions{Prefix: prefix, Limit: 1})
	if err != nil {
		return fmt.Errorf("delete backup of %s: %w", hc.Resource.Name, transientIf(err))
	}
	if len(left) > 0 {
		// A bank that lists lazily may still show a deleted object.
		return protection.Transient(fmt.Errorf("delete backup of %s: %s is still there", hc.Resource.Name, left[0]))
	}
	logger(hc).Info("deleted backup")
	return reportStatus(ctx, hc, hc.Resource.ID, "deleted", "")
}
