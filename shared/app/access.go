package app

import (
	"cmp"
	"fmt"
	"log/slog"

	"github.com/pouchdp/pouch/shared/api"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/policy"
)

// Access says who may call the API and what they may do.
type Access struct {
	// Strategy is "noauth" (the default: token "user:project", every caller
	// an admin) or "keystone" (tokens validated with Keystone).
	Strategy   string
	Keystone   auth.KeystoneConfig // the keystone strategy's settings
	PolicyFile string              // oslo policy file over Karbor's defaults ("": none)
}

// Build returns the authenticator and the policy Access describes.
func (ac Access) Build(log *slog.Logger) (api.Authenticator, api.Policy, error) {
	pol, err := policy.New(ac.PolicyFile)
	if err != nil {
		return nil, nil, err
	}
	var authn api.Authenticator
	switch ac.Strategy {
	case "", "noauth":
		authn = auth.NoAuth{}
	case "keystone":
		kc := ac.Keystone
		kc.IsAdmin = pol.IsAdmin
		k, err := auth.NewKeystone(kc, log.With("component", "keystone"))
		if err != nil {
			return nil, nil, err
		}
		authn = k
	default:
		return nil, nil, fmt.Errorf("auth strategy %q: want noauth or keystone", ac.Strategy)
	}
	log.Info("auth", "strategy", cmp.Or(ac.Strategy, "noauth"), "keystone", ac.Keystone.URL,
		"policy_file", ac.PolicyFile)
	return authn, pol, nil
}
