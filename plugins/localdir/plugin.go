package localdir

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// ResourceType is the protectable type this plugin handles.
const ResourceType = "Pouch::Local::Directory"

// Section is the provider .conf section this plugin reads.
const Section = "local_directory_plugin"

// Limits and defaults of the configuration.
const (
	DefaultChunkSize     = 8 << 20   // 8 MiB
	MaxChunkSize         = 256 << 20 // 256 MiB
	DefaultInstanceDepth = 2
	MaxInstanceDepth     = 32
	DefaultUploads       = 4 // chunks uploaded at once
	MaxUploads           = 64
)

// Options configure a Plugin built directly, without a .conf file.
type Options struct {
	// AllowedRoots are the absolute directories the plugin may read and
	// write below. Required.
	AllowedRoots []string
	// ChunkSize is the largest bank object holding file data, in bytes;
	// 0 means DefaultChunkSize.
	ChunkSize int64
	// InstanceDepth is how many levels below each root the protectable lists
	// and searches; 0 lists the roots only. (New defaults it to
	// DefaultInstanceDepth; NewPlugin takes it as given.)
	InstanceDepth int
	// Uploads is how many chunks go to the bank at once (memory: one chunk
	// more than that); 0 means DefaultUploads.
	Uploads int
}

// Plugin protects local directories. It holds only its configuration and is
// safe for concurrent use.
type Plugin struct {
	roots     []string // absolute, clean, symlinks resolved
	chunkSize int64
	depth     int
	uploads   int
}

var (
	_ protection.Plugin            = (*Plugin)(nil)
	_ protection.Validator         = (*Plugin)(nil)
	_ protection.ProtectableSource = (*Plugin)(nil)
	_ protection.Factory           = New
)

// New builds the plugin from the [local_directory_plugin] section of a
// provider configuration file.
func New(cfg *conf.File) (protection.Plugin, error) {
	var opts Options
	raw := cfg.Strings(Section, "allowed_roots")
	if len(raw) == 0 {
		return nil, cfg.Errorf(Section, "allowed_roots", "%w: list the directories the plugin may protect and restore into", conf.ErrMissing)
	}
	for _, r := range raw {
		root, err := cleanRoot(r)
		if err != nil {
			return nil, cfg.Errorf(Section, "allowed_roots", "%v", err)
		}
		opts.AllowedRoots = append(opts.AllowedRoots, root)
	}

	size, err := cfg.Int(Section, "chunk_size", DefaultChunkSize)
	if err != nil {
		return nil, err
	}
	if err := checkChunkSize(int64(size)); err != nil {
		return nil, cfg.Errorf(Section, "chunk_size", "%v", err)
	}
	opts.ChunkSize = int64(size)

	depth, err := cfg.Int(Section, "instance_depth", DefaultInstanceDepth)
	if err != nil {
		return nil, err
	}
	if err := checkDepth(depth); err != nil {
		return nil, cfg.Errorf(Section, "instance_depth", "%v", err)
	}
	opts.InstanceDepth = depth

	if opts.Uploads, err = cfg.Int(Section, "upload_concurrency", DefaultUploads); err != nil {
		return nil, err
	}
	if opts.Uploads < 1 || opts.Uploads > MaxUploads {
		return nil, cfg.Errorf(Section, "upload_concurrency", "must be between 1 and %d, got %d", MaxUploads, opts.Uploads)
	}

	return NewPlugin(opts)
}

// NewPlugin builds the plugin from opts.
func NewPlugin(opts Options) (*Plugin, error) {
	if len(opts.AllowedRoots) == 0 {
		return nil, errors.New("localdir: no allowed roots")
	}
	p := &Plugin{chunkSize: opts.ChunkSize, depth: opts.InstanceDepth, uploads: cmp.Or(opts.Uploads, DefaultUploads)}
	if p.chunkSize == 0 {
		p.chunkSize = DefaultChunkSize
	}
	if err := checkChunkSize(p.chunkSize); err != nil {
		return nil, fmt.Errorf("localdir: chunk size: %w", err)
	}
	if err := checkDepth(p.depth); err != nil {
		return nil, fmt.Errorf("localdir: instance depth: %w", err)
	}
	for _, r := range opts.AllowedRoots {
		root, err := cleanRoot(r)
		if err != nil {
			return nil, fmt.Errorf("localdir: %w", err)
		}
		p.roots = append(p.roots, root)
	}
	return p, nil
}

func checkChunkSize(n int64) error {
	if n <= 0 || n > MaxChunkSize {
		return fmt.Errorf("must be between 1 and %d bytes (256 MiB), got %d", MaxChunkSize, n)
	}
	return nil
}

func checkDepth(n int) error {
	if n < 0 || n > MaxInstanceDepth {
		return fmt.Errorf("must be between 0 and %d, got %d", MaxInstanceDepth, n)
	}
	return nil
}

// Roots returns the allowed roots, cleaned and with symlinks resolved.
func (p *Plugin) Roots() []string { return append([]string(nil), p.roots...) }

// ResourceTypes implements protection.Plugin.
func (p *Plugin) ResourceTypes() []string { return []string{ResourceType} }

// Validate implements protection.Validator: r must be a directory path inside
// an allowed root whose id matches its name. The directory need not exist
// (restoring a deleted directory is allowed).
func (p *Plugin) Validate(ctx context.Context, r model.Resource) error {
	_, err := p.check(r)
	return err
}

// Operation implements protection.Plugin. Every hook checks the resource
// again; the work is done in the main hook.
func (p *Plugin) Operation(op model.OperationType, r model.Resource) (protection.Operation, error) {
	if r.Type != ResourceType {
		return protection.Operation{}, invalidf("localdir handles %s, not %s", ResourceType, r.Type)
	}
	check := func(ctx context.Context, hc *protection.HookContext) error {
		_, err := p.check(hc.Resource)
		return err
	}
	var main protection.HookFunc
	switch op {
	case model.OpProtect:
		main = p.protect
	case model.OpRestore:
		main = p.restore
	case model.OpVerify:
		main = p.verify
	case model.OpDelete, model.OpCopy:
		// Deleting and copying touch only the bank: a directory that has
		// since left the allowed roots must still be deletable, so only its
		// identity is checked.
		check = func(ctx context.Context, hc *protection.HookContext) error {
			return checkIdentity(hc.Resource)
		}
		main = p.delete
		if op == model.OpCopy {
			main = protection.CopyData
		}
	default:
		return protection.Operation{}, fmt.Errorf("localdir %s: %w", op, protection.ErrUnsupported)
	}
	return protection.Operation{
		PrepareBegin:  check,
		PrepareFinish: check,
		Main:          main,
		Complete:      check,
	}, nil
}

// Schemas implements protection.Plugin.
func (p *Plugin) Schemas(resourceType string) protection.Schemas {
	if resourceType != ResourceType {
		return protection.Schemas{}
	}
	return protection.Schemas{
		Options: map[string]any{
			"title": "Local directory protection options",
			"type":  "object",
			"properties": map[string]any{
				"exclude": map[string]any{
					"title": "Exclude",
					"description": "Comma-separated glob patterns (path.Match syntax) of entries not to " +
						"protect, matched against the path relative to the directory, e.g. \"cache,logs/*.log\"; " +
						"a pattern without \"/\" also matches base names anywhere. An excluded directory " +
						"is skipped with its contents. (Karbor's plan parameters are flat strings, integers " +
						"and booleans, so this is one string.)",
					"type":    "string",
					"default": "",
				},
			},
		},
		Restore: map[string]any{
			"title": "Local directory restore options",
			"type":  "object",
			"properties": map[string]any{
				"restore_path": map[string]any{
					"title": "Restore path",
					"description": "Absolute directory, inside an allowed root, to restore into. " +
						"Default: the restore target if it is an absolute path, else the original directory.",
					"type": "string",
				},
			},
		},
		SavedInfo: map[string]any{
			"title": "Local directory saved info",
			"type":  "object",
			"properties": map[string]any{
				"path":     map[string]any{"title": "Path", "type": "string"},
				"files":    map[string]any{"title": "Files", "type": "integer"},
				"dirs":     map[string]any{"title": "Directories", "type": "integer"},
				"symlinks": map[string]any{"title": "Symlinks", "type": "integer"},
				"bytes":    map[string]any{"title": "Bytes", "type": "integer"},
				"chunks":   map[string]any{"title": "Chunks", "type": "integer"},
			},
		},
	}
}

// logger returns the hook's logger, with the resource attached.
func logger(hc *protection.HookContext) *slog.Logger {
	l := hc.Log
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("resource", hc.Resource.StatusKey(), "path", hc.Resource.Name, "operation", string(hc.Operation))
}

// progress forwards to hc.Progress when there is one.
type progress struct{ p protection.Progress }

func (p progress) total(n int64) {
	if p.p != nil {
		p.p.AddTotal(n)
	}
}

func (p progress) done(n int64) {
	if p.p != nil && n > 0 {
		p.p.AddDone(n)
	}
}

// reportStatus records a per-resource status when the hook has a reporter.
func reportStatus(ctx context.Context, hc *protection.HookContext, id, status, reason string) error {
	if hc.Status == nil {
		return nil
	}
	if err := hc.Status.ReportStatus(ctx, ResourceType+"#"+id, status, reason); err != nil {
		return fmt.Errorf("report status %s of %s: %w", status, hc.Resource.Name, transientIf(err))
	}
	return nil
}
