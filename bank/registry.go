package bank

import (
	"fmt"

	"github.com/pouchdp/pouch/shared/conf"
)

// Factory builds a bank from its provider's configuration file.
type Factory func(cfg *conf.File) (Bank, error)

// Registry maps bank plugin names (as written in a provider's "bank = ..."
// line) to factories.
type Registry map[string]Factory

// New builds the bank named name.
func (r Registry) New(name string, cfg *conf.File) (Bank, error) {
	f, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("unknown bank plugin %q", name)
	}
	return f(cfg)
}
