package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// The statuses a plugin writes in resource-data/<id>/status (spec §8.3).
const (
	StatusProtecting = "protecting"
	StatusAvailable  = "available"
	StatusError      = "error"
	StatusDeleted    = "deleted"
)

// Restore statuses of a restore's resources_status.
const (
	RestoreRestoring = "restoring"
	RestoreAvailable = "available"
	RestoreError     = "error"
)

const (
	statusObject   = "status"
	metadataObject = "metadata"
)

// PutStatus writes the resource's status object.
func PutStatus(ctx context.Context, hc *protection.HookContext, status string) error {
	if err := bank.PutBytes(ctx, hc.Bank, hc.DataKey(statusObject), []byte(status)); err != nil {
		return fmt.Errorf("store status %q: %w", status, err)
	}
	return nil
}

// SaveMetadata writes the resource's metadata object as JSON.
func SaveMetadata(ctx context.Context, hc *protection.HookContext, v any) error {
	if err := bank.PutJSON(ctx, hc.Bank, hc.DataKey(metadataObject), v); err != nil {
		return fmt.Errorf("store metadata: %w", err)
	}
	return nil
}

// LoadMetadata reads the resource's metadata object into v.
func LoadMetadata(ctx context.Context, hc *protection.HookContext, v any) error {
	if err := bank.GetJSON(ctx, hc.Bank, hc.DataKey(metadataObject), v); err != nil {
		return fmt.Errorf("read metadata of %s: %w", hc.Resource.StatusKey(), err)
	}
	return nil
}

// MetadataKey is the bank key of a resource's metadata object in a
// checkpoint, for a plugin reading another's.
func MetadataKey(checkpointID, resourceID string) string {
	return protection.ResourceDataKey(checkpointID, resourceID, metadataObject)
}

// Protecting runs the work of a protect hook before on_main: status
// protecting first, error when fn fails.
func Protecting(ctx context.Context, hc *protection.HookContext, fn func() error) error {
	if err := PutStatus(ctx, hc, StatusProtecting); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if serr := PutStatus(context.WithoutCancel(ctx), hc, StatusError); serr != nil {
			hc.Log.WarnContext(ctx, "cannot record error status", "err", serr)
		}
		return err
	}
	return nil
}

// Protect runs a protect hook's work between the statuses: protecting
// first, then available, or error when fn fails (the engine records fn's
// error as the resource's reason).
func Protect(ctx context.Context, hc *protection.HookContext, fn func() error) error {
	if err := Protecting(ctx, hc, fn); err != nil {
		return err
	}
	return PutStatus(ctx, hc, StatusAvailable)
}

// Verify is the verify hook of plugins that keep only metadata in the bank:
// the resource was protected (VerifyStatus) and its metadata decodes.
func Verify(ctx context.Context, hc *protection.HookContext) error {
	if err := VerifyStatus(ctx, hc); err != nil {
		return err
	}
	var md json.RawMessage
	return LoadMetadata(ctx, hc, &md)
}

// VerifyStatus checks that the resource was protected: its status object
// says available.
func VerifyStatus(ctx context.Context, hc *protection.HookContext) error {
	st, err := bank.GetBytes(ctx, hc.Bank, hc.DataKey(statusObject))
	if err != nil {
		return fmt.Errorf("read status of %s: %w", hc.Resource.StatusKey(), err)
	}
	if string(st) != StatusAvailable {
		return fmt.Errorf("%w: %s was protected with status %q", protection.ErrInvalid, hc.Resource.StatusKey(), st)
	}
	return nil
}

// DeleteData removes every object (listed whole: a resource has few) of the resource's section except its
// status, then sets the status to deleted.
func DeleteData(ctx context.Context, hc *protection.HookContext) error {
	keys, err := hc.Bank.List(ctx, bank.ListOptions{Prefix: hc.DataPrefix()})
	if err != nil {
		return fmt.Errorf("list %s: %w", hc.DataPrefix(), err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/"+statusObject) {
			continue
		}
		if err := hc.Bank.Delete(ctx, k); err != nil && !errors.Is(err, bank.ErrNotFound) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return PutStatus(ctx, hc, StatusDeleted)
}

// InBank are the operations of a plugin whose protected data is all in the
// bank: its own protect and restore; delete, verify and copy of the bank
// objects (DeleteData, Verify, protection.CopyData).
func InBank(protect, restore protection.Operation) protection.Operations {
	return protection.Operations{model.OpProtect: protect, model.OpRestore: restore,
		model.OpDelete: {Main: DeleteData}, model.OpVerify: {Main: Verify}, model.OpCopy: {Main: protection.CopyData}}
}

// Restored records, for a restore, that original id became newID: in
// new_resources (for the parents' hooks) and in the restore's
// resources_status under "<type>#<new id>".
func Restored(ctx context.Context, hc *protection.HookContext, typ, original, newID, status, reason string) error {
	if status == RestoreAvailable {
		if err := hc.NewResources.Set(ctx, original, newID); err != nil {
			return fmt.Errorf("record new id of %s: %w", original, err)
		}
	}
	if hc.Status == nil {
		return nil
	}
	return hc.Status.ReportStatus(ctx, typ+"#"+newID, status, reason)
}
