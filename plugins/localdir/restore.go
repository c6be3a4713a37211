package localdir

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pouchdp/pouch/shared/protection"
)

// ErrCorrupt marks backup data that does not match its manifest.
var ErrCorrupt = errors.New("backup data is corrupt")

// restore is the main hook of restore: recreate the protected tree in the
// target directory.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	if _, err := p.check(hc.Resource); err != nil {
		return err
	}
	log := logger(hc)
	target, err := p.restoreTarget(hc)
	if err != nil {
		return fmt.Errorf("restore %s: %w", hc.Resource.Name, err)
	}
	newID := IDFor(target)
	if err := reportStatus(ctx, hc, newID, "restoring", ""); err != nil {
		return err
	}
	if err := restoreTo(ctx, hc, log, target); err != nil {
		err = fmt.Errorf("restore %s to %s: %w", hc.Resource.Name, target, err)
		if serr := reportStatus(ctx, hc, newID, "error", err.Error()); serr != nil {
			log.Warn("cannot report restore error", "err", serr)
		}
		return err
	}
	if hc.NewResources != nil {
		if err := hc.NewResources.Set(ctx, hc.Resource.ID, newID); err != nil {
			return fmt.Errorf("restore %s: record new resource: %w", hc.Resource.Name, transientIf(err))
		}
	}
	log.Info("restored directory", "target", target)
	return reportStatus(ctx, hc, newID, "available", "")
}

// restoreTarget is where to restore, symlinks resolved: the restore_path
// parameter, else the restore target if it is an absolute path, else the
// original directory. It must be inside the allowed roots.
func (p *Plugin) restoreTarget(hc *protection.HookContext) (string, error) {
	what, t := "restore_path", hc.StringParam("restore_path", "")
	switch {
	case t != "":
	case filepath.IsAbs(hc.RestoreTarget):
		what, t = "restore target", hc.RestoreTarget
	default:
		what, t = "directory", hc.Resource.Name
	}
	if filepath.IsAbs(t) {
		t = filepath.Clean(t)
	}
	return p.checkPath(what, t)
}

func restoreTo(ctx context.Context, hc *protection.HookContext, log *slog.Logger, target string) error {
	_, m, err := loadBackup(ctx, hc)
	if err != nil {
		return err
	}
	var total, largest int64
	for _, e := range m.Entries {
		if e.Kind == kindFile {
			total += e.Size
			for _, c := range e.Chunks {
				largest = max(largest, c.Size)
			}
		}
	}
	prog := progress{hc.Progress}
	prog.total(total)

	if err := os.MkdirAll(target, 0o750); err != nil {
		return err
	}
	buf := make([]byte, max(1, largest))
	var dirs []*Entry
	for i := range m.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := &m.Entries[i]
		full := filepath.Join(target, e.relPath())
		mode, _ := parseMode(e.Mode) // checked by loadBackup
		switch e.Kind {
		case kindDir:
			// Keep the directory writable until its contents are in.
			if err := ensureDir(full, mode|0o700); err != nil {
				return err
			}
			dirs = append(dirs, e)
		case kindFile:
			if err := restoreFile(ctx, hc, prog, buf, full, e, mode); err != nil {
				return err
			}
		case kindSymlink:
			if err := restoreSymlink(full, e.target()); err != nil {
				return err
			}
		case kindSkipped:
			log.Info("entry was not protected, not restored", "entry", e.Path, "note", e.Note)
		}
	}
	// Modes and times of directories last, deepest first: writing into a
	// directory changes its mtime.
	for i := len(dirs) - 1; i >= 0; i-- {
		e := dirs[i]
		full := filepath.Join(target, e.relPath())
		mode, _ := parseMode(e.Mode)
		if err := os.Chmod(full, mode); err != nil {
			return err
		}
		if err := os.Chtimes(full, time.Time{}, e.MTime); err != nil {
			return err
		}
	}
	return nil
}

// ensureDir makes sure full is a directory (not a symlink to one) with mode.
func ensureDir(full string, mode fs.FileMode) error {
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(full, 0o700); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("cannot restore directory %s: something else (%s) is in the way", full, describeKind(fi.Mode()))
	}
	return os.Chmod(full, mode)
}

func describeKind(m fs.FileMode) string {
	switch t := m.Type(); t {
	case 0:
		return "a file"
	case fs.ModeSymlink:
		return "a symlink"
	default:
		return describeType(t)
	}
}

// restoreFile streams the chunks of e, each checked against the manifest,
// into a temporary file beside full and renames it into place once the
// whole file is written and verified. On failure the temporary file is
// removed and full is untouched.
func restoreFile(ctx context.Context, hc *protection.HookContext, prog progress, buf []byte,
	full string, e *Entry, mode fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(full), ".pouch-restore-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	whole := sha256.New()
	for _, c := range e.Chunks {
		data, err := readChunk(ctx, hc, buf, e, c)
		if err != nil {
			return err
		}
		whole.Write(data)
		if _, err := f.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", full, err)
		}
		prog.done(c.Size)
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != e.SHA256 {
		return fmt.Errorf("file %q: %w: content SHA-256 %s, manifest says %s", e.Path, ErrCorrupt, got, e.SHA256)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, time.Time{}, e.MTime); err != nil {
		return err
	}
	if err := os.Rename(tmp, full); err != nil {
		return fmt.Errorf("cannot put file %s in place: %w", full, err)
	}
	return nil
}

// readChunk reads chunk c of e into buf and checks its size and SHA-256.
func readChunk(ctx context.Context, hc *protection.HookContext, buf []byte, e *Entry, c Chunk) ([]byte, error) {
	rc, err := hc.Bank.Get(ctx, hc.DataKey(dataObject(c.N)))
	if err != nil {
		return nil, fmt.Errorf("file %q: read chunk %d: %w", e.Path, c.N, transientIf(err))
	}
	defer rc.Close()
	data := buf[:c.Size]
	n, err := io.ReadFull(rc, data)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("file %q: chunk %d (%s): %w: %d bytes, manifest says %d",
			e.Path, c.N, dataObject(c.N), ErrCorrupt, n, c.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("file %q: read chunk %d: %w", e.Path, c.N, transientIf(err))
	}
	var one [1]byte
	if _, err := io.ReadFull(rc, one[:]); err == nil {
		return nil, fmt.Errorf("file %q: chunk %d (%s): %w: longer than the %d bytes the manifest says",
			e.Path, c.N, dataObject(c.N), ErrCorrupt, c.Size)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("file %q: read chunk %d: %w", e.Path, c.N, transientIf(err))
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != c.SHA256 {
		return nil, fmt.Errorf("file %q: chunk %d (%s): %w: SHA-256 %s, manifest says %s",
			e.Path, c.N, dataObject(c.N), ErrCorrupt, got, c.SHA256)
	}
	return data, nil
}

// restoreSymlink creates (or replaces) full as a symlink to target, verbatim.
func restoreSymlink(full, target string) error {
	tmp := filepath.Join(filepath.Dir(full), ".pouch-restore-"+rand.Text())
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, full); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot put symlink %s in place: %w", full, err)
	}
	return nil
}
