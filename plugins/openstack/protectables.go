package openstack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Karbor's OpenStack resource types.
const (
	TypeProject = "OS::Keystone::Project"
	TypeServer  = "OS::Nova::Server"
	TypeVolume  = "OS::Cinder::Volume"
	TypeImage   = "OS::Glance::Image"
	TypeNetwork = "OS::Neutron::Network"
)

// NetworkTopologyName is the name of a project's network pseudo-resource,
// whose id is the project's.
const NetworkTopologyName = "Network Topology"

// Statuses whose resources are not listed (spec §8.2).
var (
	hiddenServers = []string{"DELETED", "ERROR", "UNKNOWN", "SOFT_DELETED", "RESCUED"}
	hiddenVolumes = []string{"error", "deleting", "error_deleting"}
	hiddenImages  = []string{"killed", "deleted", "pending_delete", "deactivated"}
)

// Protectables returns the protectable of typ with, always, the project's
// (the root every other type hangs from).
func (c *Cloud) Protectables(typ string) []protection.Protectable {
	out := []protection.Protectable{&protectable{cloud: c, typ: TypeProject}}
	if typ != TypeProject {
		out = append(out, &protectable{cloud: c, typ: typ})
	}
	return out
}

// protectable lists and shows instances of one OpenStack type.
type protectable struct {
	cloud *Cloud
	typ   string
}

func (p *protectable) Type() string { return p.typ }

// Key is the type and the cloud: protectables of several plugins and
// providers acting in one cloud answer the same (protection.Keyed).
func (p *protectable) Key() string {
	c := p.cloud.cfg
	return strings.Join([]string{p.typ, c.AuthURL, c.Region, c.Interface, c.Cloud}, "|")
}

// ParentTypes: a server depends on its image, volumes and network; the
// project on everything.
func (p *protectable) ParentTypes() []string {
	switch p.typ {
	case TypeProject:
		return nil
	case TypeVolume, TypeImage, TypeNetwork:
		return []string{TypeServer, TypeProject}
	}
	return []string{TypeProject}
}

func (p *protectable) List(ctx context.Context, s protection.Scope) ([]model.Resource, error) {
	cl, err := p.cloud.Connect(ctx, s.Credentials())
	if err != nil {
		return nil, err
	}
	return p.list(ctx, cl)
}

func (p *protectable) list(ctx context.Context, cl *Clients) ([]model.Resource, error) {
	switch p.typ {
	case TypeProject:
		return []model.Resource{{ID: cl.ProjectID, Type: TypeProject, Name: cl.ProjectName}}, nil
	case TypeServer:
		all, err := listServers(ctx, cl)
		return visible(all, err, hiddenServers, func(sv servers.Server) string { return sv.Status }, serverResource)
	case TypeVolume:
		all, err := listVolumes(ctx, cl)
		return visible(all, err, hiddenVolumes, func(v volumes.Volume) string { return v.Status }, volumeResource)
	case TypeImage:
		sc, err := cl.Image()
		if err != nil {
			return nil, err
		}
		pages, err := images.List(sc, images.ListOpts{}).AllPages(ctx)
		if err != nil {
			return nil, Classify(err)
		}
		all, err := images.ExtractImages(pages)
		return visible(all, err, hiddenImages, func(im images.Image) string { return string(im.Status) }, imageResource)
	case TypeNetwork:
		sc, err := cl.Network()
		if err != nil {
			return nil, err
		}
		pages, err := networks.List(sc, networks.ListOpts{ProjectID: cl.ProjectID}).AllPages(ctx)
		if err != nil {
			return nil, Classify(err)
		}
		all, err := networks.ExtractNetworks(pages)
		if err != nil {
			return nil, err
		}
		if len(all) == 0 {
			return nil, nil
		}
		return []model.Resource{topology(cl.ProjectID)}, nil
	}
	return nil, fmt.Errorf("%w: type %s", protection.ErrUnsupported, p.typ)
}

func topology(project string) model.Resource {
	return model.Resource{ID: project, Type: TypeNetwork, Name: NetworkTopologyName}
}

func (p *protectable) Show(ctx context.Context, s protection.Scope, id string) (model.Resource, error) {
	cl, err := p.cloud.Connect(ctx, s.Credentials())
	if err != nil {
		return model.Resource{}, err
	}
	notFound := fmt.Errorf("%w: %s %s", protection.ErrNotFound, p.typ, id)
	switch p.typ {
	case TypeServer:
		sv, err := getServer(ctx, cl, id)
		if err != nil {
			return model.Resource{}, err
		}
		if slices.Contains(hiddenServers, sv.Status) {
			return model.Resource{}, notFound
		}
		return serverResource(*sv), nil
	case TypeVolume:
		sc, err := cl.BlockStorage()
		if err != nil {
			return model.Resource{}, err
		}
		v, err := volumes.Get(ctx, sc, id).Extract()
		if err != nil {
			return model.Resource{}, Classify(err)
		}
		if slices.Contains(hiddenVolumes, v.Status) {
			return model.Resource{}, notFound
		}
		return volumeResource(*v), nil
	case TypeImage:
		sc, err := cl.Image()
		if err != nil {
			return model.Resource{}, err
		}
		im, err := images.Get(ctx, sc, id).Extract()
		if err != nil {
			return model.Resource{}, Classify(err)
		}
		if slices.Contains(hiddenImages, string(im.Status)) {
			return model.Resource{}, notFound
		}
		return imageResource(*im), nil
	}
	// The project and the network topology are the token's project.
	rs, err := p.list(ctx, cl)
	if err != nil {
		return model.Resource{}, err
	}
	for _, r := range rs {
		if r.ID == id {
			return r, nil
		}
	}
	return model.Resource{}, notFound
}

func (p *protectable) Dependents(ctx context.Context, s protection.Scope, parent model.Resource) ([]model.Resource, error) {
	cl, err := p.cloud.Connect(ctx, s.Credentials())
	if err != nil {
		return nil, err
	}
	if parent.Type == TypeProject {
		if parent.ID != cl.ProjectID {
			return nil, nil
		}
		rs, err := p.list(ctx, cl)
		if err != nil || p.typ != TypeImage {
			return rs, err
		}
		return p.ownImages(ctx, cl, rs)
	}
	if parent.Type != TypeServer {
		return nil, nil
	}
	sv, err := getServer(ctx, cl, parent.ID)
	if err != nil {
		return nil, err
	}
	switch p.typ {
	case TypeImage:
		id, _ := sv.Image["id"].(string)
		if id == "" { // booted from a volume
			return nil, nil
		}
		r, err := p.Show(ctx, s, id)
		if err != nil {
			return nil, err
		}
		r.ExtraInfo = map[string]any{"server_id": sv.ID}
		return []model.Resource{r}, nil
	case TypeVolume:
		all, err := listVolumes(ctx, cl)
		if err != nil {
			return nil, err
		}
		var out []model.Resource
		for _, v := range all {
			if slices.ContainsFunc(v.Attachments, func(a volumes.Attachment) bool { return a.ServerID == sv.ID }) {
				out = append(out, volumeResource(v))
			}
		}
		return out, nil
	case TypeNetwork:
		if len(sv.Addresses) == 0 {
			return nil, nil
		}
		return []model.Resource{topology(cl.ProjectID)}, nil
	}
	return nil, nil
}

// ownImages keeps the images the project owns.
func (p *protectable) ownImages(ctx context.Context, cl *Clients, rs []model.Resource) ([]model.Resource, error) {
	sc, err := cl.Image()
	if err != nil {
		return nil, err
	}
	pages, err := images.List(sc, images.ListOpts{Owner: cl.ProjectID}).AllPages(ctx)
	if err != nil {
		return nil, Classify(err)
	}
	own, err := images.ExtractImages(pages)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rs, func(r model.Resource) bool {
		return !slices.ContainsFunc(own, func(im images.Image) bool { return im.ID == r.ID })
	}), nil
}

func listServers(ctx context.Context, cl *Clients) ([]servers.Server, error) {
	sc, err := cl.Compute()
	if err != nil {
		return nil, err
	}
	pages, err := servers.List(sc, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, Classify(err)
	}
	return servers.ExtractServers(pages)
}

func getServer(ctx context.Context, cl *Clients, id string) (*servers.Server, error) {
	sc, err := cl.Compute()
	if err != nil {
		return nil, err
	}
	sv, err := servers.Get(ctx, sc, id).Extract()
	return sv, Classify(err)
}

func listVolumes(ctx context.Context, cl *Clients) ([]volumes.Volume, error) {
	sc, err := cl.BlockStorage()
	if err != nil {
		return nil, err
	}
	pages, err := volumes.List(sc, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, Classify(err)
	}
	return volumes.ExtractVolumes(pages)
}

// visible are the resources of all (listed with err) whose status is not
// hidden.
func visible[T any](all []T, err error, hidden []string, status func(T) string, res func(T) model.Resource) ([]model.Resource, error) {
	if err != nil {
		return nil, err
	}
	var out []model.Resource
	for _, x := range all {
		if !slices.Contains(hidden, status(x)) {
			out = append(out, res(x))
		}
	}
	return out, nil
}

func imageResource(im images.Image) model.Resource {
	return model.Resource{ID: im.ID, Type: TypeImage, Name: im.Name}
}

func serverResource(sv servers.Server) model.Resource {
	return model.Resource{ID: sv.ID, Type: TypeServer, Name: sv.Name}
}

func volumeResource(v volumes.Volume) model.Resource {
	return model.Resource{ID: v.ID, Type: TypeVolume, Name: v.Name,
		ExtraInfo: map[string]any{"availability_zone": v.AvailabilityZone}}
}
