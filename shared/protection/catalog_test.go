package protection_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// static is a protectable with fixed answers; calls counts List calls.
type static struct {
	typ     string
	parents []string
	deps    []model.Resource
	key     string
	calls   *int
}

func (s static) Type() string          { return s.typ }
func (s static) ParentTypes() []string { return s.parents }
func (s static) List(context.Context, protection.Scope) ([]model.Resource, error) {
	*s.calls++
	return s.deps, nil
}
func (s static) Show(context.Context, protection.Scope, string) (model.Resource, error) {
	return model.Resource{}, protection.ErrNotFound
}
func (s static) Dependents(context.Context, protection.Scope, model.Resource) ([]model.Resource, error) {
	return s.deps, nil
}

type keyed struct{ static }

func (k keyed) Key() string { return k.key }

func res(typ, id string) model.Resource { return model.Resource{Type: typ, ID: id} }

func TestCatalogDependents(t *testing.T) {
	const (
		server  = "OS::Nova::Server"
		volume  = "OS::Cinder::Volume"
		image   = "OS::Glance::Image"
		network = "OS::Neutron::Network"
		other   = "Pouch::Other"
	)
	n := 0
	vols := []model.Resource{res(volume, "v1"), res(volume, "v2")}
	tests := []struct {
		name string
		add  []protection.Protectable
		want []model.Resource
	}{
		{"Karbor's order: image before volumes, network last, others after",
			[]protection.Protectable{
				static{typ: other, parents: []string{server}, deps: []model.Resource{res(other, "o")}, calls: &n},
				static{typ: network, parents: []string{server}, deps: []model.Resource{res(network, "p")}, calls: &n},
				static{typ: volume, parents: []string{server}, deps: vols, calls: &n},
				static{typ: image, parents: []string{server}, deps: []model.Resource{res(image, "i")}, calls: &n},
			},
			[]model.Resource{res(image, "i"), vols[0], vols[1], res(network, "p"), res(other, "o")}},
		{"two providers' volume protectables: no duplicates",
			[]protection.Protectable{
				static{typ: volume, parents: []string{server}, deps: vols, calls: &n},
				static{typ: volume, parents: []string{server}, deps: vols[1:], calls: &n},
			},
			vols},
		{"not a parent: nothing",
			[]protection.Protectable{static{typ: volume, parents: []string{image}, deps: vols, calls: &n}},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := protection.NewCatalog(slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, p := range tc.add {
				c.Add(p)
			}
			got, err := c.Dependents(t.Context(), protection.Scope{}, res(server, "s"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b model.Resource) bool { return a.Key() == b.Key() }) {
				t.Errorf("dependents %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCatalogKeyedOnce(t *testing.T) {
	n := 0
	c := protection.NewCatalog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	vol := static{typ: "OS::Cinder::Volume", deps: []model.Resource{res("OS::Cinder::Volume", "v")}, calls: &n}
	a, b, other := vol, vol, vol
	a.key, b.key, other.key = "cloud-1", "cloud-1", "cloud-2"
	c.Add(keyed{a})
	c.Add(keyed{b})
	c.Add(keyed{other})
	if _, err := c.List(t.Context(), protection.Scope{}, "OS::Cinder::Volume"); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d protectables asked, want 2 (one per cloud)", n)
	}
}
