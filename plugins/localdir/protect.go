package localdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/protection"
)

// protect is the main hook of protect: walk the directory, stream its files
// into data_<n> objects, then write the manifest, metadata and status.
func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	dir, err := p.check(hc.Resource)
	if err != nil {
		return err
	}
	log := logger(hc)
	exclude, err := excludeParam(hc.Parameters)
	if err != nil {
		return fmt.Errorf("protect %s: %w", hc.Resource.Name, err)
	}
	// Start from nothing, so that a retried attempt leaves no chunk of an
	// earlier one behind.
	if err := bank.DeletePrefix(ctx, hc.Bank, hc.DataPrefix()); err != nil {
		return fmt.Errorf("protect %s: clear earlier attempt: %w", hc.Resource.Name, transientIf(err))
	}
	if err := putStatus(ctx, hc, "protecting"); err != nil {
		return fmt.Errorf("protect %s: %w", hc.Resource.Name, err)
	}
	md, err := p.protectDir(ctx, hc, log, dir, exclude)
	if err != nil {
		if ctx.Err() == nil {
			if serr := putStatus(ctx, hc, "error"); serr != nil {
				log.Warn("cannot record error status", "err", serr)
			}
		}
		return fmt.Errorf("protect %s: %w", hc.Resource.Name, err)
	}
	log.Info("protected directory", "files", md.Files, "dirs", md.Dirs, "symlinks", md.Symlinks,
		"skipped", md.Skipped, "bytes", md.Bytes, "chunks", md.Chunks)
	return nil
}

func putStatus(ctx context.Context, hc *protection.HookContext, status string) error {
	if err := bank.PutBytes(ctx, hc.Bank, hc.DataKey(statusObject), []byte(status)); err != nil {
		return fmt.Errorf("store status %q: %w", status, transientIf(err))
	}
	return nil
}

func (p *Plugin) protectDir(ctx context.Context, hc *protection.HookContext, log *slog.Logger, dir string, exclude []string) (*Metadata, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("directory %s does not exist", dir)
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}

	entries, err := scan(ctx, log, dir, exclude)
	if err != nil {
		return nil, err
	}
	var total, largest int64
	for _, e := range entries {
		if e.Kind == kindFile {
			total += e.Size
			largest = max(largest, e.Size)
		}
	}
	prog := progress{hc.Progress}
	prog.total(total)

	// Buffers no bigger than a chunk, nor than the largest file, reused for
	// every chunk.
	up := bank.NewUploader(ctx, hc.Bank, p.uploads, max(1, min(p.chunkSize, largest)), prog.done)
	md := &Metadata{Path: hc.Resource.Name, ChunkSize: p.chunkSize}
	for i := range entries {
		e := &entries[i]
		switch e.Kind {
		case kindDir:
			md.Dirs++
		case kindSymlink:
			md.Symlinks++
		case kindSkipped:
			md.Skipped++
		case kindFile:
			if err := storeFile(ctx, hc, log, prog, up, dir, e, &md.Chunks); err != nil {
				up.Wait()
				return nil, err
			}
			md.Files++
			md.Bytes += e.Size
		}
	}

	if err := up.Wait(); err != nil {
		return nil, transientIf(err)
	}
	m := &Manifest{Version: manifestVersion, Path: hc.Resource.Name, ChunkSize: p.chunkSize, Entries: entries}
	if md.ManifestSHA256, err = putManifest(ctx, hc, m); err != nil {
		return nil, err
	}
	if err := bank.PutJSON(ctx, hc.Bank, hc.DataKey(metadataObject), md); err != nil {
		return nil, fmt.Errorf("store metadata: %w", transientIf(err))
	}
	if err := putStatus(ctx, hc, "available"); err != nil {
		return nil, err
	}
	return md, nil
}

// scan walks dir without following symlinks and returns its entries in walk
// order, without file contents.
func scan(ctx context.Context, log *slog.Logger, dir string, exclude []string) ([]Entry, error) {
	var entries []Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walk
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel != "." && excluded(exclude, rel) {
			log.Debug("excluded", "entry", rel)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		e := Entry{Mode: formatMode(fi.Mode()), MTime: fi.ModTime()}
		e.setPath(rel)
		switch t := fi.Mode().Type(); t {
		case 0:
			e.Kind, e.Size = kindFile, fi.Size()
		case fs.ModeDir:
			e.Kind = kindDir
		case fs.ModeSymlink:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e.Kind, e.Size = kindSymlink, int64(len(target))
			e.setTarget(target)
		default:
			e.Kind = kindSkipped
			e.Note = describeType(t) + " not protected: only directories, regular files and symlinks are"
			log.Warn("skipped entry", "entry", rel, "type", describeType(t))
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	return entries, nil
}

func describeType(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "block device"
	}
	return "irregular file"
}

// storeFile streams the file of e into data objects, numbered on from
// *chunks and uploaded by up, and fills in e's chunks, size and checksum. At
// most the size seen by scan is read; if the file changed meanwhile, what
// was actually read is recorded and noted.
func storeFile(ctx context.Context, hc *protection.HookContext, log *slog.Logger, prog progress, up *bank.Uploader,
	dir string, e *Entry, chunks *int) error {
	name := filepath.Join(dir, e.relPath())
	f, err := openNoFollow(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is no longer a regular file", name)
	}

	listed := e.Size
	whole := sha256.New()
	r := io.LimitReader(f, listed)
	var read int64
	for {
		buf, err := up.Buffer()
		if err != nil {
			return transientIf(err)
		}
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			data := buf[:n]
			sum := sha256.Sum256(data)
			whole.Write(data)
			*chunks++
			up.Put(hc.DataKey(dataObject(*chunks)), data, buf)
			e.Chunks = append(e.Chunks, Chunk{N: *chunks, Size: int64(n), SHA256: hex.EncodeToString(sum[:])})
			read += int64(n)
		} else {
			up.Free(buf)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", name, rerr)
		}
	}
	e.Size = read
	e.SHA256 = hex.EncodeToString(whole.Sum(nil))
	if read < listed {
		prog.done(listed - read) // keep done == total
	}
	if after, err := f.Stat(); err == nil && (read != listed || after.Size() != listed || !after.ModTime().Equal(e.MTime)) {
		e.Note = fmt.Sprintf("changed while being read: %d bytes when listed, %d after reading; saved the %d bytes read",
			listed, after.Size(), read)
		log.Warn("file changed while being read", "entry", e.Path, "listed", listed, "now", after.Size(), "saved", read)
	}
	return nil
}

// excludeParam reads the exclude parameter: a list of glob patterns (or one
// string of comma-separated patterns). Patterns are checked here so that a
// typo fails the protect rather than silently excluding nothing.
func excludeParam(params map[string]any) ([]string, error) {
	var pats []string
	switch v := params["exclude"].(type) {
	case nil:
	case string:
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				pats = append(pats, s)
			}
		}
	case []string:
		pats = v
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("parameter exclude: %v is not a string", x)
			}
			pats = append(pats, s)
		}
	default:
		return nil, fmt.Errorf("parameter exclude must be a list of glob patterns, not %T", v)
	}
	for _, pat := range pats {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("parameter exclude: bad pattern %q: %w", pat, err)
		}
	}
	return pats, nil
}

// excluded reports whether the relative path rel matches a pattern, either
// as a whole (leading and trailing "/" ignored) or, for patterns without "/",
// by its base name.
func excluded(patterns []string, rel string) bool {
	rel = filepath.ToSlash(rel)
	for _, pat := range patterns {
		if ok, _ := path.Match(strings.Trim(pat, "/"), rel); ok {
			return true
		}
		if !strings.Contains(pat, "/") {
			if ok, _ := path.Match(pat, path.Base(rel)); ok {
				return true
			}
		}
	}
	return false
}
