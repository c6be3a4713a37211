package project

import (
	"context"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the plugin's section of a provider file (poll_interval and
// poll_timeout are read, though the plugin never waits).
const Section = "project_protection_plugin"

// Plugin protects projects.
type Plugin struct{ openstack.Base }

var _ protection.Factory = New

// New builds the plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, Section, openstack.TypeProject, 0)
	if err != nil {
		return nil, err
	}
	return &Plugin{Base: b}, nil
}

// Metadata is what protect saves.
type Metadata struct {
	ProjectID   string `json:"project_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	DomainID    string `json:"domain_id,omitempty"`
}

// Schemas: no options.
func (p *Plugin) Schemas(string) protection.Schemas {
	return protection.Schemas{
		Options: map[string]any{"title": "Project Protection Options", "type": "object", "properties": map[string]any{}},
		Restore: map[string]any{"title": "Project Restore Options", "type": "object", "properties": map[string]any{}},
		SavedInfo: map[string]any{"title": "Project Protection Saved Info", "type": "object", "properties": map[string]any{
			"name":        map[string]any{"type": "string", "title": "Project name"},
			"description": map[string]any{"type": "string", "title": "Project description"},
		}},
	}
}

// Operation returns the hooks of op.
func (p *Plugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	return openstack.InBank(protection.Operation{Main: p.protect}, protection.Operation{Main: p.restore}).Get(op)
}

func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		cl, err := p.ConnectProject(ctx, hc)
		if err != nil {
			return err
		}
		md := Metadata{ProjectID: cl.ProjectID, Name: cl.ProjectName}
		if err := describe(ctx, cl, &md); err != nil {
			return err
		}
		return openstack.SaveMetadata(ctx, hc, md)
	})
}

// describe adds the project's description, which a member may read; a
// refusal (an older policy) leaves it out.
func describe(ctx context.Context, cl *openstack.Clients, md *Metadata) error {
	sc, err := cl.Identity()
	if err != nil {
		return err
	}
	pr, err := projects.Get(ctx, sc, md.ProjectID).Extract()
	switch {
	case gophercloud.ResponseCodeIs(err, http.StatusForbidden):
		return nil
	case err != nil:
		return openstack.Classify(err)
	}
	md.Name, md.Description, md.DomainID = pr.Name, pr.Description, pr.DomainID
	return nil
}

// restore maps the saved project to the restore's own: the other plugins
// create their resources there.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	var md Metadata
	if err := openstack.LoadMetadata(ctx, hc, &md); err != nil {
		return err
	}
	cl, err := p.Connect(ctx, hc)
	if err != nil {
		return err
	}
	hc.Log.InfoContext(ctx, "project restored into the operation's project", "saved", md.ProjectID, "name", md.Name,
		"target", cl.ProjectID)
	return openstack.Restored(ctx, hc, openstack.TypeProject, hc.Resource.ID, cl.ProjectID, openstack.RestoreAvailable, "")
}
