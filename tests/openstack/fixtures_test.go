package openstack_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// fixtures make cloud resources as the demo user and delete them when the
// test ends.
type fixtures struct {
	t     *testing.T
	stack *openstacktest.Stack
	cl    *openstack.Clients
	poll  openstack.Poll
}

func newFixtures(t *testing.T, s *openstacktest.Stack) *fixtures {
	return &fixtures{t: t, stack: s, cl: s.Demo(t), poll: openstack.Poll{Interval: time.Second, Timeout: 5 * time.Minute}}
}

func (f *fixtures) must(err error, what string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// volume makes a volume of size GiB (from image, if not empty) and waits
// until it is available.
func (f *fixtures) volume(name string, size int, image string) *volumes.Volume {
	f.t.Helper()
	sc, err := f.cl.BlockStorage()
	f.must(err, "block storage")
	v, err := volumes.Create(f.t.Context(), sc, volumes.CreateOpts{Name: name, Size: size, ImageID: image}, nil).Extract()
	f.must(err, "create volume "+name)
	f.t.Cleanup(func() { f.deleteVolume(v.ID) })
	f.must(f.poll.Wait(f.t.Context(), "volume "+name, f.volumeStatus(v.ID, "available")), "wait")
	v, err = volumes.Get(f.t.Context(), sc, v.ID).Extract()
	f.must(err, "show volume")
	return v
}

func (f *fixtures) volumeStatus(id, want string) openstack.Check {
	return func(ctx context.Context) (string, bool, error) {
		sc, err := f.cl.BlockStorage()
		if err != nil {
			return "", false, err
		}
		v, err := volumes.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", false, err
		}
		if v.Status == "error" {
			return v.Status, false, fmt.Errorf("volume %s went to error", id)
		}
		return v.Status, v.Status == want, nil
	}
}

// deleteVolume deletes a volume, detaching it first, and ignores one
// already gone.
func (f *fixtures) deleteVolume(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, err := f.cl.BlockStorage()
	if err != nil {
		return
	}
	f.poll.Wait(ctx, "volume "+id+" settled", func(ctx context.Context) (string, bool, error) {
		v, err := volumes.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", true, nil
		}
		return v.Status, v.Status == "available" || v.Status == "error", nil
	})
	// A volume still busy is deleted all the same: Cinder says why not.
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := volumes.Delete(ctx, sc, id, volumes.DeleteOpts{Cascade: true}).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
		f.t.Logf("cleanup: delete volume %s: %v", id, err)
	}
}

// network makes a network with one subnet of cidr.
func (f *fixtures) network(name, cidr string) (*networks.Network, *subnets.Subnet) {
	f.t.Helper()
	sc, err := f.cl.Network()
	f.must(err, "network")
	n, err := networks.Create(f.t.Context(), sc, networks.CreateOpts{Name: name}).Extract()
	f.must(err, "create network "+name)
	f.t.Cleanup(func() { networks.Delete(context.Background(), sc, n.ID) })
	sn, err := subnets.Create(f.t.Context(), sc, subnets.CreateOpts{NetworkID: n.ID, Name: name + "-subnet", CIDR: cidr,
		IPVersion: 4}).Extract()
	f.must(err, "create subnet")
	return n, sn
}

// server boots a server on network (from image, or from the bootable
// volume bootVolume) and waits until it is ACTIVE.
func (f *fixtures) server(name, image, bootVolume, network string) *servers.Server {
	f.t.Helper()
	sc, err := f.cl.Compute()
	f.must(err, "compute")
	opts := servers.CreateOpts{Name: name, ImageRef: image, FlavorRef: f.stack.Env["FLAVOR_ID"],
		Networks: []servers.Network{{UUID: network}}}
	if bootVolume != "" {
		opts.ImageRef = ""
		opts.BlockDevice = []servers.BlockDevice{{UUID: bootVolume, SourceType: servers.SourceVolume,
			DestinationType: servers.DestinationVolume, BootIndex: 0}}
	}
	sv, err := servers.Create(f.t.Context(), sc, opts, nil).Extract()
	f.must(err, "create server "+name)
	f.t.Cleanup(func() { f.deleteServer(sv.ID) })
	f.must(f.poll.Wait(f.t.Context(), "server "+name, func(ctx context.Context) (string, bool, error) {
		s, err := servers.Get(ctx, sc, sv.ID).Extract()
		if err != nil {
			return "", false, err
		}
		if s.Status == "ERROR" {
			return s.Status, false, fmt.Errorf("server %s: ERROR: %v", name, s.Fault)
		}
		return s.Status, s.Status == "ACTIVE", nil
	}), "wait")
	sv, err = servers.Get(f.t.Context(), sc, sv.ID).Extract()
	f.must(err, "show server")
	return sv
}

func (f *fixtures) deleteServer(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, err := f.cl.Compute()
	if err != nil {
		return
	}
	if err := servers.Delete(ctx, sc, id).ExtractErr(); err != nil {
		return
	}
	f.poll.Wait(ctx, "server "+id+" gone", func(ctx context.Context) (string, bool, error) {
		s, err := servers.Get(ctx, sc, id).Extract()
		if openstack.IsNotFound(err) {
			return "gone", true, nil
		}
		if err != nil {
			return "", false, err
		}
		return s.Status, false, nil
	})
}

// attach attaches volume to server and waits until it is in-use.
func (f *fixtures) attach(server, volume string) {
	f.t.Helper()
	sc, err := f.cl.Compute()
	f.must(err, "compute")
	_, err = volumeattach.Create(f.t.Context(), sc, server, volumeattach.CreateOpts{VolumeID: volume}).Extract()
	f.must(err, "attach")
	f.must(f.poll.Wait(f.t.Context(), "volume attached", f.volumeStatus(volume, "in-use")), "wait")
}
