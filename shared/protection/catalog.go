package protection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/pouchdp/pouch/shared/model"
)

// Catalog holds every protectable Pouch knows, by type. Several protectables
// may serve one type (two providers with directory plugins); their answers
// are merged.
type Catalog struct {
	byType map[string][]Protectable
	log    *slog.Logger
}

// NewCatalog returns an empty catalog.
func NewCatalog(log *slog.Logger) *Catalog {
	return &Catalog{byType: map[string][]Protectable{}, log: log}
}

// Keyed is implemented by protectables that answer the same as any other
// with the same key (the same type in the same cloud, offered by several
// plugins or providers): the catalog keeps one of them.
type Keyed interface {
	Key() string
}

// Add registers p, unless a protectable with the same Key is there already.
func (c *Catalog) Add(p Protectable) {
	if k, ok := p.(Keyed); ok {
		for _, q := range c.byType[p.Type()] {
			if qk, ok := q.(Keyed); ok && qk.Key() == k.Key() {
				return
			}
		}
	}
	c.byType[p.Type()] = append(c.byType[p.Type()], p)
}

// Types lists the protectable types, sorted.
func (c *Catalog) Types() []string {
	out := make([]string, 0, len(c.byType))
	for t := range c.byType {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Has reports whether t is a known type.
func (c *Catalog) Has(t string) bool { return len(c.byType[t]) > 0 }

// DependentTypes are the types whose parent types include t.
func (c *Catalog) DependentTypes(t string) []string {
	var out []string
	for typ, ps := range c.byType {
		for _, p := range ps {
			if slices.Contains(p.ParentTypes(), t) && !slices.Contains(out, typ) {
				out = append(out, typ)
			}
		}
	}
	slices.Sort(out)
	return out
}

// List merges the instances of type t, without duplicates.
func (c *Catalog) List(ctx context.Context, s Scope, t string) ([]model.Resource, error) {
	var out []model.Resource
	seen := map[model.ResourceKey]bool{}
	for _, p := range c.byType[t] {
		rs, err := p.List(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", t, err)
		}
		for _, r := range rs {
			if !seen[r.Key()] {
				seen[r.Key()] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Show finds one instance of type t.
func (c *Catalog) Show(ctx context.Context, s Scope, t, id string) (model.Resource, error) {
	for _, p := range c.byType[t] {
		r, err := p.Show(ctx, s, id)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return model.Resource{}, err
		}
	}
	return model.Resource{}, fmt.Errorf("%w: %s %s", ErrNotFound, t, id)
}

// dependentOrder is the order of types in a resource's dependents, as
// Karbor answers (a server's image before its volumes); other types follow
// by name.
var dependentOrder = []string{"OS::Keystone::Project", "OS::Nova::Server", "OS::Glance::Image",
	"OS::Cinder::Volume", "OS::Manila::Share", "OS::Neutron::Network", "OS::Trove::Instance", "OS::Kubernetes::Pod"}

func rank(t string) int {
	if i := slices.Index(dependentOrder, t); i >= 0 {
		return i
	}
	return len(dependentOrder)
}

// Dependents returns what r depends on: the union, over protectables whose
// parent types include r's type, of their dependents of r, without
// duplicates, by type in dependentOrder. A protectable that fails is logged
// and contributes nothing, as in Karbor.
func (c *Catalog) Dependents(ctx context.Context, s Scope, r model.Resource) ([]model.Resource, error) {
	var out []model.Resource
	seen := map[model.ResourceKey]bool{}
	types := c.Types()
	slices.SortStableFunc(types, func(a, b string) int { return rank(a) - rank(b) })
	for _, t := range types {
		for _, p := range c.byType[t] {
			if !slices.Contains(p.ParentTypes(), r.Type) {
				continue
			}
			rs, err := p.Dependents(ctx, s, r)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				c.log.WarnContext(ctx, "dependent resources failed", "type", t, "parent", r.StatusKey(), "err", err)
				continue
			}
			for _, d := range rs {
				if !seen[d.Key()] {
					seen[d.Key()] = true
					out = append(out, d)
				}
			}
		}
	}
	return out, nil
}
