package localdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pouchdp/pouch/shared/protection"
)

// verify is the main hook of verify: re-read every chunk of the backup and
// check its checksums and the whole files', writing nothing but the status.
func (p *Plugin) verify(ctx context.Context, hc *protection.HookContext) error {
	if _, err := p.check(hc.Resource); err != nil {
		return err
	}
	if err := verifyBackup(ctx, hc); err != nil {
		err = fmt.Errorf("verify %s: %w", hc.Resource.Name, err)
		if serr := reportStatus(ctx, hc, hc.Resource.ID, "error", err.Error()); serr != nil {
			logger(hc).Warn("cannot report verify error", "err", serr)
		}
		return err
	}
	return reportStatus(ctx, hc, hc.Resource.ID, "available", "")
}

func verifyBackup(ctx context.Context, hc *protection.HookContext) error {
	md, m, err := loadBackup(ctx, hc)
	if err != nil {
		return err
	}
	var total, largest int64
	var chunks int
	for _, e := range m.Entries {
		for _, c := range e.Chunks {
			largest = max(largest, c.Size)
		}
		if e.Kind == kindFile {
			total += e.Size
			chunks += len(e.Chunks)
		}
	}
	if total != md.Bytes || chunks != md.Chunks {
		return fmt.Errorf("%w: manifest holds %d bytes in %d chunks, metadata says %d in %d",
			ErrCorrupt, total, chunks, md.Bytes, md.Chunks)
	}
	prog := progress{hc.Progress}
	prog.total(total)
	buf := make([]byte, max(1, largest))
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Kind != kindFile {
			continue
		}
		whole := sha256.New()
		for _, c := range e.Chunks {
			data, err := readChunk(ctx, hc, buf, e, c)
			if err != nil {
				return err
			}
			whole.Write(data)
			prog.done(c.Size)
		}
		if got := hex.EncodeToString(whole.Sum(nil)); got != e.SHA256 {
			return fmt.Errorf("file %q: %w: content SHA-256 %s, manifest says %s", e.Path, ErrCorrupt, got, e.SHA256)
		}
	}
	return nil
}
