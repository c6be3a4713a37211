package localdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/protection"
)

// Names of the bank objects of a resource (under hc.DataKey).
const (
	statusObject   = "status"
	manifestObject = "manifest"
	metadataObject = "metadata"
)

// dataObject is the name of chunk n (1-based).
func dataObject(n int) string { return "data_" + strconv.Itoa(n) }

// manifestVersion is the version of the manifest format this code writes and
// reads.
const manifestVersion = 1

// Entry kinds.
const (
	kindDir     = "dir"
	kindFile    = "file"
	kindSymlink = "symlink"
	kindSkipped = "skipped"
)

// Manifest lists every entry of a protected directory in walk order (lexical,
// parents before their contents). The first entry, ".", is the directory
// itself.
type Manifest struct {
	Version   int     `json:"version"`
	Path      string  `json:"path"`
	ChunkSize int64   `json:"chunk_size"`
	Entries   []Entry `json:"entries"`
}

// Entry is one directory, file, symlink or skipped entry.
type Entry struct {
	// Path is relative to the directory, slash-separated. A path that is not
	// valid UTF-8 (which JSON cannot carry) is in RawPath instead, and Path
	// holds a readable approximation.
	Path    string `json:"path"`
	RawPath []byte `json:"raw_path,omitempty"`
	Kind    string `json:"kind"`
	// Mode is the octal permission bits, with setuid/setgid/sticky
	// ("0755", "1777").
	Mode  string    `json:"mode"`
	MTime time.Time `json:"mtime"`
	// Size is the number of bytes saved (files) or the length of the link
	// target (symlinks).
	Size int64 `json:"size"`
	// Target is a symlink's target, verbatim; RawTarget when not UTF-8.
	Target    string  `json:"target,omitempty"`
	RawTarget []byte  `json:"raw_target,omitempty"`
	Chunks    []Chunk `json:"chunks,omitempty"`
	// SHA256 is the hex SHA-256 of the whole file as saved.
	SHA256 string `json:"sha256,omitempty"`
	// Note says why an entry was skipped or that it changed while read.
	Note string `json:"note,omitempty"`
}

// Chunk is one data_<n> object of a file.
type Chunk struct {
	N      int    `json:"n"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Metadata is the small summary saved as the resource's metadata object.
type Metadata struct {
	Path           string `json:"path"`
	Files          int    `json:"files"`
	Dirs           int    `json:"dirs"`
	Symlinks       int    `json:"symlinks"`
	Skipped        int    `json:"skipped"`
	Bytes          int64  `json:"bytes"`
	Chunks         int    `json:"chunks"`
	ChunkSize      int64  `json:"chunk_size"`
	ManifestSHA256 string `json:"manifest_sha256"`
}

// setPath stores the relative OS path rel in e.
func (e *Entry) setPath(rel string) {
	s := filepath.ToSlash(rel)
	if utf8.ValidString(s) {
		e.Path = s
		return
	}
	e.Path = strings.ToValidUTF8(s, "\uFFFD")
	e.RawPath = []byte(s)
}

// relPath is the entry's relative path in OS form.
func (e *Entry) relPath() string {
	if e.RawPath != nil {
		return filepath.FromSlash(string(e.RawPath))
	}
	return filepath.FromSlash(e.Path)
}

func (e *Entry) setTarget(t string) {
	if utf8.ValidString(t) {
		e.Target = t
		return
	}
	e.Target = strings.ToValidUTF8(t, "\uFFFD")
	e.RawTarget = []byte(t)
}

func (e *Entry) target() string {
	if e.RawTarget != nil {
		return string(e.RawTarget)
	}
	return e.Target
}

// formatMode renders the permission and special bits of m as octal.
func formatMode(m fs.FileMode) string {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return fmt.Sprintf("%04o", u)
}

// parseMode is the inverse of formatMode.
func parseMode(s string) (fs.FileMode, error) {
	u, err := strconv.ParseUint(s, 8, 32)
	if err != nil || u > 0o7777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	m := fs.FileMode(u & 0o777)
	if u&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if u&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if u&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

// check verifies what restore and verify rely on: versions, relative paths,
// parents before children, chunk sizes within the chunk size and adding up
// to the file size. Errors are permanent.
func (m *Manifest) check() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("manifest version %d is not supported (want %d)", m.Version, manifestVersion)
	}
	if m.ChunkSize <= 0 || m.ChunkSize > MaxChunkSize {
		return fmt.Errorf("manifest chunk size %d is out of range", m.ChunkSize)
	}
	if len(m.Entries) == 0 || m.Entries[0].Path != "." || m.Entries[0].Kind != kindDir {
		return fmt.Errorf("manifest does not start with the directory itself")
	}
	dirs := map[string]bool{".": true}
	seen := map[string]bool{}
	for i := range m.Entries {
		e := &m.Entries[i]
		rel := e.relPath()
		if i > 0 {
			if !filepath.IsLocal(rel) || filepath.Clean(rel) != rel {
				return fmt.Errorf("manifest entry %q is not a path inside the directory", e.Path)
			}
			if !dirs[filepath.Dir(rel)] {
				return fmt.Errorf("manifest entry %q comes before its directory", e.Path)
			}
		}
		if seen[rel] {
			return fmt.Errorf("manifest lists %q twice", e.Path)
		}
		seen[rel] = true
		if _, err := parseMode(e.Mode); err != nil {
			return fmt.Errorf("manifest entry %q: %w", e.Path, err)
		}
		switch e.Kind {
		case kindDir:
			dirs[rel] = true
		case kindFile:
			var sum int64
			for _, c := range e.Chunks {
				if c.N <= 0 || c.Size <= 0 || c.Size > m.ChunkSize {
					return fmt.Errorf("manifest entry %q: bad chunk %d of %d bytes", e.Path, c.N, c.Size)
				}
				sum += c.Size
			}
			if sum != e.Size {
				return fmt.Errorf("manifest entry %q: chunks hold %d bytes, file has %d", e.Path, sum, e.Size)
			}
		case kindSymlink, kindSkipped:
		default:
			return fmt.Errorf("manifest entry %q has unknown kind %q", e.Path, e.Kind)
		}
	}
	return nil
}

// putManifest stores m and returns the hex SHA-256 of what was stored.
func putManifest(ctx context.Context, hc *protection.HookContext, m *Manifest) (string, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	if err := bank.PutBytes(ctx, hc.Bank, hc.DataKey(manifestObject), data); err != nil {
		return "", fmt.Errorf("store manifest: %w", transientIf(err))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// loadBackup reads and checks the status, metadata and manifest of the
// hook's resource.
func loadBackup(ctx context.Context, hc *protection.HookContext) (*Metadata, *Manifest, error) {
	status, err := bank.GetBytes(ctx, hc.Bank, hc.DataKey(statusObject))
	if err != nil {
		return nil, nil, fmt.Errorf("read backup status: %w", transientIf(err))
	}
	if s := strings.TrimSpace(string(status)); s != "available" {
		return nil, nil, fmt.Errorf("backup of %s is not complete: its status is %q", hc.Resource.Name, s)
	}
	var md Metadata
	if err := bank.GetJSON(ctx, hc.Bank, hc.DataKey(metadataObject), &md); err != nil {
		return nil, nil, fmt.Errorf("read backup metadata: %w", transientIf(err))
	}
	data, err := bank.GetBytes(ctx, hc.Bank, hc.DataKey(manifestObject))
	if err != nil {
		return nil, nil, fmt.Errorf("read backup manifest: %w", transientIf(err))
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != md.ManifestSHA256 {
		return nil, nil, fmt.Errorf("backup manifest is corrupt: SHA-256 %s, metadata says %s", got, md.ManifestSHA256)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("decode backup manifest: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, nil, fmt.Errorf("backup manifest: %w", err)
	}
	return &md, &m, nil
}
