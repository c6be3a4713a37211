package provider

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the provider section of a .conf file.
const Section = "provider"

// ErrNotFound: no provider with that id.
var ErrNotFound = errors.New("provider not found")

// Provider is a bank plus the protection plugins for a set of resource types.
type Provider struct {
	ID          string
	Name        string
	Description string
	Source      string // the .conf file it came from
	Bank        bank.Bank
	plugins     map[string]protection.Plugin // by resource type
}

// Plugin returns the plugin that handles resource type t.
func (p *Provider) Plugin(t string) (protection.Plugin, bool) {
	pl, ok := p.plugins[t]
	return pl, ok
}

// ResourceTypes lists the types the provider's plugins handle, sorted.
func (p *Provider) ResourceTypes() []string {
	out := make([]string, 0, len(p.plugins))
	for t := range p.plugins {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// ExtendedInfoSchema is Karbor's extended_info_schema: options_schema,
// restore_schema and saved_info_schema, each by resource type.
func (p *Provider) ExtendedInfoSchema() map[string]map[string]any {
	out := map[string]map[string]any{"options_schema": {}, "restore_schema": {}, "saved_info_schema": {}}
	for t, pl := range p.plugins {
		s := pl.Schemas(t)
		out["options_schema"][t] = orEmpty(s.Options)
		out["restore_schema"][t] = orEmpty(s.Restore)
		out["saved_info_schema"][t] = orEmpty(s.SavedInfo)
	}
	return out
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Set is every loaded provider.
type Set struct {
	list []*Provider // sorted by id
	byID map[string]*Provider
}

// Get returns the provider with id.
func (s *Set) Get(id string) (*Provider, error) {
	if p, ok := s.byID[id]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
}

// All lists the providers sorted by id.
func (s *Set) All() []*Provider { return s.list }

// Loader turns provider files into providers.
type Loader struct {
	Banks   bank.Registry
	Plugins protection.Registry
	Env     func(string) (string, bool) // nil: the process environment
	Log     *slog.Logger
}

// pluginName strips Karbor's entry-point namespace from a plugin name.
func pluginName(s string) string { return strings.TrimPrefix(s, "karbor.protections.") }

// LoadDir loads every *.conf file of dir, in name order. Every problem is
// reported (joined), each naming its file and key; disabled providers are
// skipped.
func (l *Loader) LoadDir(dir string) (*Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("provider directory: %w", err)
		}
	}
	slices.Sort(files)
	set := &Set{byID: map[string]*Provider{}}
	var errs []error
	for _, f := range files {
		p, err := l.LoadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p == nil {
			continue
		}
		if prev, ok := set.byID[p.ID]; ok {
			errs = append(errs, &conf.KeyError{Path: f, Section: Section, Key: "id",
				Err: fmt.Errorf("duplicate provider id %s, already defined in %s", p.ID, prev.Source)})
			continue
		}
		set.byID[p.ID] = p
		set.list = append(set.list, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(set.list, func(a, b *Provider) int { return strings.Compare(a.ID, b.ID) })
	return set, nil
}

// LoadFile loads one provider file. It returns nil, nil for a provider whose
// enabled flag is not true (Karbor's default).
func (l *Loader) LoadFile(path string) (*Provider, error) {
	var cfg *conf.File
	var err error
	if l.Env != nil {
		cfg, err = conf.LoadWithEnv(path, l.Env)
	} else {
		cfg, err = conf.Load(path)
	}
	if err != nil {
		return nil, err
	}
	if !cfg.HasSection(Section) {
		return nil, cfg.Errorf(Section, "name", "no [%s] section", Section)
	}
	// Like Karbor, a disabled provider is skipped before anything else of it
	// is checked.
	enabled, err := cfg.Bool(Section, "enabled", false)
	if err != nil {
		return nil, err
	}
	if !enabled {
		l.log().Info("provider disabled, skipped", "file", path)
		return nil, nil
	}
	var errs []error
	req := func(key string) string {
		v, err := cfg.Required(Section, key)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	p := &Provider{Source: path, plugins: map[string]protection.Plugin{}}
	p.Name = req("name")
	p.ID = req("id")
	p.Description = cfg.String(Section, "description", "")
	bankName := req("bank")
	if p.ID != "" {
		if u, err := uuid.Parse(p.ID); err != nil {
			errs = append(errs, cfg.Errorf(Section, "id", "not a UUID: %q", p.ID))
		} else {
			p.ID = u.String()
		}
	}
	names := cfg.Values(Section, "plugin")
	if len(names) == 0 {
		errs = append(errs, cfg.Errorf(Section, "plugin", "%w: a provider needs at least one plugin", conf.ErrMissing))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p.Bank, err = l.Banks.New(pluginName(bankName), cfg); err != nil {
		return nil, wrapKey(cfg, "bank", err)
	}
	if lb, ok := p.Bank.(interface{ SetLogger(*slog.Logger) }); ok {
		lb.SetLogger(l.log().With("bank", bankName, "provider", p.ID))
	}
	for _, n := range names {
		if n == "" {
			errs = append(errs, cfg.Errorf(Section, "plugin", "empty plugin name"))
			continue
		}
		f, ok := l.Plugins[pluginName(n)]
		if !ok {
			errs = append(errs, cfg.Errorf(Section, "plugin", "unknown protection plugin %q", n))
			continue
		}
		pl, err := f(cfg)
		if err != nil {
			errs = append(errs, wrapKey(cfg, "plugin", fmt.Errorf("%s: %w", n, err)))
			continue
		}
		for _, t := range pl.ResourceTypes() {
			p.plugins[t] = pl // the last plugin for a type wins, as in Karbor
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// wrapKey names file and key unless err already does.
func wrapKey(cfg *conf.File, key string, err error) error {
	var ke *conf.KeyError
	if errors.As(err, &ke) {
		return err
	}
	return cfg.Errorf(Section, key, "%w", err)
}

func (l *Loader) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// Protectables adds every protectable the providers' plugins offer to c.
func (s *Set) Protectables(c *protection.Catalog) {
	seen := map[protection.Plugin]bool{}
	for _, p := range s.list {
		for _, t := range p.ResourceTypes() {
			pl := p.plugins[t]
			if seen[pl] {
				continue
			}
			seen[pl] = true
			if src, ok := pl.(protection.ProtectableSource); ok {
				for _, pt := range src.Protectables() {
					c.Add(pt)
				}
			}
		}
	}
}
