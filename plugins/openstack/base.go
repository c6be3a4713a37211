package openstack

import (
	"context"
	"fmt"
	"time"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/protection"
)

// DefaultPollTimeout bounds every wait of a hook for a cloud resource.
const DefaultPollTimeout = 30 * time.Minute

// Base is what every OpenStack plugin embeds: the cloud it acts in, the
// type it handles and how it waits.
type Base struct {
	Cloud *Cloud
	Type  string
	Poll  Poll
}

// NewBase reads [openstack_client] and, from the plugin's own section,
// poll_interval (seconds, default defPoll) and poll_timeout (seconds,
// default DefaultPollTimeout).
func NewBase(cfg *conf.File, section, typ string, defPoll time.Duration) (Base, error) {
	cc, err := ConfigFrom(cfg)
	if err != nil {
		return Base{}, err
	}
	b := Base{Cloud: NewCloud(cc), Type: typ}
	if b.Poll.Interval, err = cfg.Seconds(section, "poll_interval", defPoll); err != nil {
		return Base{}, err
	}
	if b.Poll.Timeout, err = cfg.Seconds(section, "poll_timeout", DefaultPollTimeout); err != nil {
		return Base{}, err
	}
	return b, nil
}

// ResourceTypes is the plugin's one type.
func (b *Base) ResourceTypes() []string { return []string{b.Type} }

// Protectables are the type's and the project's.
func (b *Base) Protectables() []protection.Protectable { return b.Cloud.Protectables(b.Type) }

// ActsInCloud marks the plugin a protection.CloudPlugin.
func (b *Base) ActsInCloud() {}

// Connect authenticates with the hook's credentials.
func (b *Base) Connect(ctx context.Context, hc *protection.HookContext) (*Clients, error) {
	return b.Cloud.Connect(ctx, hc.Credentials)
}

// ConnectProject is Connect for resources whose id is a project (the
// project, its network topology): the session must act in that project.
func (b *Base) ConnectProject(ctx context.Context, hc *protection.HookContext) (*Clients, error) {
	cl, err := b.Connect(ctx, hc)
	if err != nil {
		return nil, err
	}
	if cl.ProjectID != hc.Resource.ID {
		return nil, fmt.Errorf("%w: %s belongs to project %s, not to the one the operation acts in (%s)",
			protection.ErrInvalid, hc.Resource.StatusKey(), hc.Resource.ID, cl.ProjectID)
	}
	return cl, nil
}
