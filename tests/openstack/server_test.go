package openstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/plugins/openstack/server"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// serverTestProvider has the server plugin and no-op children (the last
// plugin of a type wins): a restore falls back to the original image,
// volumes and network.
const serverTestProvider = "0b6f3c52-5d0e-4f7a-8d0c-7e51a2c9e3b4"

const serverProviderConf = `[provider]
name = Server plugin with no-op children
description = Nova servers; images, volumes and networks are not copied
id = ` + serverTestProvider + `
plugin = karbor-noop-protection-plugin
plugin = karbor-server-protection-plugin
bank = pouch-fs-bank-plugin
enabled = True

[file_system_bank_plugin]
file_system_bank_path = ${POUCH_DATA_DIR:-/var/lib/pouch}/bank
bank_object_container = karbor

[openstack_client]
auth_url = ${OS_AUTH_URL:-}
region_name = ${OS_REGION_NAME:-}

[nova_backup_protection_plugin]
poll_interval = 1
poll_timeout = 300
`

// serverTest is one test's fixtures, Pouch with serverTestProvider and the
// demo user's clients.
type serverTest struct {
	*fixtures
	p        *pouch
	provider string
}

// newServerTest tests through serverTestProvider.
func newServerTest(t *testing.T) *serverTest {
	s := openstacktest.Start(t)
	return &serverTest{fixtures: newFixtures(t, s), provider: serverTestProvider,
		p: newPouch(t, s, map[string]string{"server-test.conf": serverProviderConf})}
}

// planFor makes a plan of the server alone.
func (st *serverTest) planFor(sv *servers.Server, params obj) string {
	return st.p.plan(st.t, st.provider, []model.Resource{{ID: sv.ID, Type: openstack.TypeServer, Name: sv.Name}}, params)
}

// checkpoint protects plan and wants it available.
func (st *serverTest) checkpoint(plan string) *apitest.Response {
	st.t.Helper()
	cp := st.p.protect(st.t, st.provider, plan, 10*time.Minute)
	if got := cp.Str(st.t, "checkpoint", "status"); got != model.CheckpointAvailable {
		st.t.Fatalf("checkpoint %s: %s", got, cp.Raw)
	}
	return cp
}

// saved is the definition the plugin saved of server id in checkpoint cp.
func (st *serverTest) saved(cp, id string) server.Metadata {
	st.t.Helper()
	var md server.Metadata
	st.must(bank.GetJSON(st.t.Context(), st.p.bank(st.t, st.provider), protection.ResourceDataKey(cp, id, "metadata"), &md), "saved metadata")
	return md
}

// children are the resources under the server in the checkpoint's
// resource_graph ([nodes, adjacency], spec §4.4), as "type#id".
func serverChildren(t *testing.T, cp *apitest.Response, id string) []string {
	t.Helper()
	var g []json.RawMessage
	var nodes map[string][]any
	var adj [][]json.RawMessage
	if err := json.Unmarshal([]byte(cp.Str(t, "checkpoint", "resource_graph")), &g); err != nil || len(g) != 2 {
		t.Fatalf("resource_graph: %v %s", err, cp.Raw)
	}
	if err := json.Unmarshal(g[0], &nodes); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(g[1], &adj)
	key := func(sid string) string { return fmt.Sprintf("%v#%v", nodes[sid][0], nodes[sid][1]) }
	var out []string
	for _, a := range adj {
		var parent string
		var kids []string
		_ = json.Unmarshal(a[0], &parent)
		_ = json.Unmarshal(a[1], &kids)
		if key(parent) != openstack.TypeServer+"#"+id {
			continue
		}
		for _, k := range kids {
			out = append(out, key(k))
		}
	}
	slices.Sort(out)
	return out
}

// restored is the restore's one server in resources_status.
func restoredServer(t *testing.T, rs *apitest.Response) (id, status string) {
	t.Helper()
	for k, v := range rs.Get(t, "restore", "resources_status").(map[string]any) {
		if id, ok := strings.CutPrefix(k, openstack.TypeServer+"#"); ok {
			return id, fmt.Sprint(v)
		}
	}
	t.Fatalf("no server in resources_status: %s", rs.Raw)
	return "", ""
}

// show is server id as the demo user sees it.
func (st *serverTest) show(id string) *servers.Server {
	st.t.Helper()
	sc, err := st.cl.Compute()
	st.must(err, "compute")
	sv, err := servers.Get(st.t.Context(), sc, id).Extract()
	st.must(err, "show server "+id)
	return sv
}

// devices maps server id's volumes to their devices.
func (st *serverTest) devices(id string) map[string]string {
	st.t.Helper()
	sc, err := st.cl.Compute()
	st.must(err, "compute")
	pages, err := volumeattach.List(sc, id).AllPages(st.t.Context())
	st.must(err, "list attachments")
	vas, err := volumeattach.ExtractVolumeAttachments(pages)
	st.must(err, "attachments")
	out := map[string]string{}
	for _, va := range vas {
		out[va.VolumeID] = va.Device
	}
	return out
}

// ports lists the ports of a network, or of a server.
func (st *serverTest) ports(opts ports.ListOpts) []ports.Port {
	st.t.Helper()
	all, err := st.listPorts(st.t.Context(), opts)
	st.must(err, "list ports")
	return all
}

func (st *serverTest) listPorts(ctx context.Context, opts ports.ListOpts) ([]ports.Port, error) {
	nc, err := st.cl.Network()
	if err != nil {
		return nil, err
	}
	pages, err := ports.List(nc, opts).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return ports.ExtractPorts(pages)
}

// named lists the servers called name.
func (st *serverTest) named(name string) []servers.Server {
	st.t.Helper()
	sc, err := st.cl.Compute()
	st.must(err, "compute")
	pages, err := servers.List(sc, servers.ListOpts{Name: "^" + name + "$"}).AllPages(st.t.Context())
	st.must(err, "list servers")
	all, err := servers.ExtractServers(pages)
	st.must(err, "servers")
	return all
}

// dropRestored deletes a restored server and the ports it was booted on
// (Nova keeps ports it did not make) when the test ends, or now.
func (st *serverTest) dropRestored(id string) func() {
	var once sync.Once
	drop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			owned, err := st.listPorts(ctx, ports.ListOpts{DeviceID: id})
			if err != nil {
				st.t.Logf("cleanup: ports of server %s: %v", id, err)
			}
			st.deleteServer(id)
			nc, err := st.cl.Network()
			if err != nil {
				return
			}
			for _, pt := range owned {
				if err := ports.Delete(ctx, nc, pt.ID).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
					st.t.Logf("cleanup: delete port %s: %v", pt.ID, err)
				}
			}
		})
	}
	st.t.Cleanup(drop)
	return drop
}

// securityGroup makes a security group.
func (st *serverTest) securityGroup(name string) *groups.SecGroup {
	st.t.Helper()
	nc, err := st.cl.Network()
	st.must(err, "network")
	sg, err := groups.Create(st.t.Context(), nc, groups.CreateOpts{Name: name}).Extract()
	st.must(err, "create security group")
	st.t.Cleanup(func() { groups.Delete(context.Background(), nc, sg.ID) })
	return sg
}

// dressed is a server booted from IMAGE_ID on a new network, with a
// security group, metadata, an attached volume and a floating IP (through
// a router to a new external network).
type dressed struct {
	sv     *servers.Server
	net    *networks.Network
	sn     *subnets.Subnet
	sg     *groups.SecGroup
	vol    string
	router string
	fip    *floatingips.FloatingIP
}

func (st *serverTest) dressed(cidr string) *dressed {
	t := st.t
	t.Helper()
	d := &dressed{}
	d.net, d.sn = st.network(openstacktest.Name(t, "srv-net"), cidr)
	d.sg = st.securityGroup(openstacktest.Name(t, "srv-sg"))
	d.vol = st.volume(openstacktest.Name(t, "srv-vol"), 1, "").ID
	sv := st.server(openstacktest.Name(t, "srv"), st.stack.Env["IMAGE_ID"], "", d.net.ID)
	sc, err := st.cl.Compute()
	st.must(err, "compute")
	st.must(secgroups.AddServer(t.Context(), sc, sv.ID, d.sg.Name).ExtractErr(), "add security group")
	_, err = servers.UpdateMetadata(t.Context(), sc, sv.ID, servers.MetadataOpts{"app": "pouch", "tier": "web"}).Extract()
	st.must(err, "metadata")
	st.attach(sv.ID, d.vol)
	d.sv = st.show(sv.ID)
	pts := st.ports(ports.ListOpts{DeviceID: sv.ID})
	if len(pts) != 1 || len(pts[0].FixedIPs) != 1 {
		t.Fatalf("server ports %+v, want one with one address", pts)
	}
	d.router, d.fip = st.floating(d.sn.ID, pts[0].ID)
	return d
}

// floating makes an external network, a router from subnet to it and a
// floating IP on port. The external network's floating IPs and the
// router are deleted when the test ends.
func (st *serverTest) floating(subnet, port string) (string, *floatingips.FloatingIP) {
	t := st.t
	t.Helper()
	ext := externalNetwork(t, st.stack)
	nc, err := st.cl.Network()
	st.must(err, "network")
	r, err := routers.Create(t.Context(), nc, routers.CreateOpts{Name: openstacktest.Name(t, "srv-router"),
		GatewayInfo: &routers.GatewayInfo{NetworkID: ext}}).Extract()
	st.must(err, "create router")
	t.Cleanup(func() { st.dropRouter(r.ID, ext) })
	_, err = routers.AddInterface(t.Context(), nc, r.ID, routers.AddInterfaceOpts{SubnetID: subnet}).Extract()
	st.must(err, "router interface")
	fip, err := floatingips.Create(t.Context(), nc, floatingips.CreateOpts{FloatingNetworkID: ext, PortID: port}).Extract()
	st.must(err, "create floating IP")
	return r.ID, fip
}

// dropRouter deletes the floating IPs of network ext and router.
func (st *serverTest) dropRouter(router, ext string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := st.cl.Network()
	if err != nil {
		return
	}
	if pages, err := floatingips.List(nc, floatingips.ListOpts{FloatingNetworkID: ext}).AllPages(ctx); err == nil {
		fips, _ := floatingips.ExtractFloatingIPs(pages)
		for _, f := range fips {
			floatingips.Delete(ctx, nc, f.ID)
		}
	}
	ifaces, _ := st.listPorts(ctx, ports.ListOpts{DeviceID: router, DeviceOwner: "network:router_interface"})
	for _, pt := range ifaces {
		routers.RemoveInterface(ctx, nc, router, routers.RemoveInterfaceOpts{PortID: pt.ID})
	}
	if err := routers.Delete(ctx, nc, router).ExtractErr(); err != nil {
		st.t.Logf("cleanup: delete router %s: %v", router, err)
	}
}

// portFloatingIPs are the addresses of port's floating IPs.
func (st *serverTest) portFloatingIPs(port string) []string {
	st.t.Helper()
	nc, err := st.cl.Network()
	st.must(err, "network")
	pages, err := floatingips.List(nc, floatingips.ListOpts{PortID: port}).AllPages(st.t.Context())
	st.must(err, "list floating IPs")
	fips, err := floatingips.ExtractFloatingIPs(pages)
	st.must(err, "floating IPs")
	var out []string
	for _, f := range fips {
		out = append(out, f.FloatingIP)
	}
	return out
}

// TestServerProtectRestore: a plan of a server alone protects its image,
// volume and network too and saves its definition; the server restored
// from it (its children are no-ops: the originals are used) has the same
// name, flavor, image, metadata, security groups, fixed IP and volume
// device. A restore that fails leaves nothing behind; a restore hook run
// again does not boot a second server.
func TestServerProtectRestore(t *testing.T) {
	st := newServerTest(t)
	env := st.stack.Env
	d := st.dressed("10.72.0.0/24")
	sv, net, sn, sg, vol := d.sv, d.net, d.sn, d.sg, d.vol
	orig := st.ports(ports.ListOpts{DeviceID: sv.ID})
	ip := orig[0].FixedIPs[0].IPAddress
	device := st.devices(sv.ID)[vol]

	cp := st.checkpoint(st.planFor(sv, nil))
	cpID := cp.Str(t, "checkpoint", "id")

	t.Run("graph", func(t *testing.T) {
		want := []string{openstack.TypeVolume + "#" + vol, openstack.TypeImage + "#" + env["IMAGE_ID"],
			openstack.TypeNetwork + "#" + env["DEMO_PROJECT_ID"]}
		slices.Sort(want)
		if got := serverChildren(t, cp, sv.ID); !slices.Equal(got, want) {
			t.Errorf("server's children %v, want %v", got, want)
		}
	})
	t.Run("saved", func(t *testing.T) {
		md := st.saved(cpID, sv.ID)
		if md.AttachMetadata[vol].AttachmentID == "" {
			t.Errorf("no attachment id: %+v", md.AttachMetadata)
		}
		md.AttachMetadata[vol] = server.Attachment{VolumeID: md.AttachMetadata[vol].VolumeID, ServerID: md.AttachMetadata[vol].ServerID,
			Device: md.AttachMetadata[vol].Device, Bootable: md.AttachMetadata[vol].Bootable}
		slices.SortFunc(md.ServerMetadata.SecurityGroups, func(a, b server.SecurityGroup) int { return strings.Compare(a.Name, b.Name) })
		slices.Sort(md.Ports[0].SecurityGroups)
		sgs := []server.SecurityGroup{{Name: "default", ID: defaultGroup(t, st)}, {Name: sg.Name, ID: sg.ID}}
		slices.SortFunc(sgs, func(a, b server.SecurityGroup) int { return strings.Compare(a.Name, b.Name) })
		sgIDs := []string{sgs[0].ID, sgs[1].ID}
		slices.Sort(sgIDs)
		want := server.Metadata{
			ResourceID: sv.ID, Name: sv.Name,
			Flavor:         server.Flavor{ID: env["FLAVOR_ID"], Name: env["FLAVOR_NAME"], VCPUs: 1, RAM: 64, Disk: 1},
			AttachMetadata: map[string]server.Attachment{vol: {VolumeID: vol, ServerID: sv.ID, Device: device}},
			BootMetadata:   server.BootMetadata{BootDeviceType: server.BootImage, BootImageID: env["IMAGE_ID"]},
			ServerMetadata: server.ServerMetadata{AvailabilityZone: sv.AvailabilityZone, Flavor: env["FLAVOR_ID"],
				Metadata: map[string]string{"app": "pouch", "tier": "web"}, SecurityGroups: sgs,
				Networks: []string{net.ID}, FloatingIPs: []string{d.fip.FloatingIP}},
			Ports: []server.Port{{ID: orig[0].ID, NetworkID: net.ID, MACAddress: orig[0].MACAddress,
				FixedIPs: []server.FixedIP{{SubnetID: sn.ID, IPAddress: ip}}, SecurityGroups: sgIDs,
				FloatingIPs: []server.FloatingIP{{Address: d.fip.FloatingIP, NetworkID: d.fip.FloatingNetworkID, FixedIP: ip}}}},
		}
		if !apitest.EqualJSON(md, want) {
			got, _ := json.MarshalIndent(md, "", " ")
			exp, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("saved definition\n%s\nwant\n%s", got, exp)
		}
	})

	st.deleteServer(sv.ID)
	st.must(st.poll.Wait(t.Context(), "volume detached", st.volumeStatus(vol, "available")), "wait")

	t.Run("restore fails", func(t *testing.T) {
		acl := st.stack.Admin(t)
		asc, err := acl.Compute()
		st.must(err, "admin compute")
		huge, public := 2_000_000, true // GB: more disk than the fake hypervisor has
		fl, err := flavors.Create(t.Context(), asc, flavors.CreateOpts{Name: openstacktest.Name(t, "huge"), RAM: 64, VCPUs: 1,
			Disk: &huge, IsPublic: &public}).Extract()
		st.must(err, "create flavor")
		t.Cleanup(func() { flavors.Delete(context.Background(), asc, fl.ID) })
		for _, tc := range []struct {
			name, flavor, reason string
			booted               bool
		}{
			{"no such flavor", "pouch-no-such-flavor", "restore_flavor_id", false},
			{"unschedulable flavor", fl.ID, "No valid host", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rs := st.p.restore(t, st.provider, cpID, obj{openstack.TypeServer: obj{"restore_flavor_id": tc.flavor}}, 5*time.Minute)
				if got := rs.Str(t, "restore", "status"); got != model.RestoreFail {
					t.Fatalf("restore %s: %s", got, rs.Raw)
				}
				reasons := rs.Get(t, "restore", "resources_reason").(map[string]any)
				if r := fmt.Sprint(reasons[openstack.TypeServer+"#"+sv.ID]); !strings.Contains(r, tc.reason) {
					t.Errorf("reason %q, want it to say %q", r, tc.reason)
				}
				if tc.booted {
					if id, status := restoredServer(t, rs); status != openstack.RestoreError || !strings.Contains(
						fmt.Sprint(reasons[openstack.TypeServer+"#"+id]), tc.reason) {
						t.Errorf("new server %s: %s, reasons %v", id, status, reasons)
					}
				}
				if left := st.named(sv.Name); len(left) > 0 {
					t.Errorf("servers left behind: %v", left)
				}
				left := st.ports(ports.ListOpts{NetworkID: net.ID})
				if slices.ContainsFunc(left, func(p ports.Port) bool { return p.DeviceOwner != "network:router_interface" }) {
					t.Errorf("ports left behind: %+v", left)
				}
			})
		}
	})

	t.Run("hook run again", func(t *testing.T) {
		// The whole restore hook, twice with the same new_resources: as
		// the engine retries it after a transient error or a crash.
		name := openstacktest.Name(t, "again")
		nr := serverNewResources{}
		hc := st.hookContext(cpID, sv, obj{"restore_name": name}, nr)
		run := st.restoreHook(sv)
		st.must(run(t.Context(), hc), "first run")
		first, ok := nr[sv.ID]
		if !ok {
			t.Fatalf("no new id recorded: %v", nr)
		}
		drop := st.dropRestored(first)
		st.must(run(t.Context(), hc), "second run")
		if nr[sv.ID] != first {
			t.Errorf("second run restored %s, the first %s", nr[sv.ID], first)
		}
		if got := st.named(name); len(got) != 1 {
			t.Errorf("%d servers named %s, want 1", len(got), name)
		}
		if got := st.devices(first); got[vol] != device {
			t.Errorf("volumes %v, want %s at %s", got, vol, device)
		}
		drop()
		st.must(st.poll.Wait(t.Context(), "volume detached", st.volumeStatus(vol, "available")), "wait")
	})

	t.Run("restore_net_id", func(t *testing.T) {
		// Another network: the saved address (on a subnet of the
		// original network) is dropped, the port gets one of its own.
		other, osn := st.network(openstacktest.Name(t, "srv-other"), "10.76.0.0/24")
		nc, err := st.cl.Network()
		st.must(err, "network")
		_, err = routers.AddInterface(t.Context(), nc, d.router, routers.AddInterfaceOpts{SubnetID: osn.ID}).Extract()
		st.must(err, "router interface")
		t.Cleanup(func() {
			routers.RemoveInterface(context.Background(), nc, d.router, routers.RemoveInterfaceOpts{SubnetID: osn.ID})
		})
		name := openstacktest.Name(t, "elsewhere")
		rs := st.p.restore(t, st.provider, cpID, obj{openstack.TypeServer: obj{"restore_net_id": other.ID,
			"restore_name": name}}, 5*time.Minute)
		if got := rs.Str(t, "restore", "status"); got != model.RestoreSuccess {
			t.Fatalf("restore %s: %s", got, rs.Raw)
		}
		id, _ := restoredServer(t, rs)
		drop := st.dropRestored(id)
		if got := st.show(id).Name; got != name {
			t.Errorf("restored server named %s, want %s", got, name)
		}
		pts := st.ports(ports.ListOpts{DeviceID: id})
		if len(pts) != 1 || pts[0].NetworkID != other.ID || len(pts[0].FixedIPs) != 1 || pts[0].FixedIPs[0].SubnetID != osn.ID {
			t.Fatalf("ports %+v, want one on %s", pts, other.ID)
		}
		if got := st.portFloatingIPs(pts[0].ID); !slices.Equal(got, []string{d.fip.FloatingIP}) {
			t.Errorf("floating IPs %v, want %s", got, d.fip.FloatingIP)
		}
		drop()
		st.must(st.poll.Wait(t.Context(), "volume detached", st.volumeStatus(vol, "available")), "wait")
	})

	t.Run("restore", func(t *testing.T) {
		rs := st.p.restore(t, st.provider, cpID, nil, 5*time.Minute)
		if got := rs.Str(t, "restore", "status"); got != model.RestoreSuccess {
			t.Fatalf("restore %s: %s", got, rs.Raw)
		}
		id, status := restoredServer(t, rs)
		st.dropRestored(id)
		if status != openstack.RestoreAvailable {
			t.Errorf("server %s: %s", id, status)
		}
		got := st.show(id)
		if got.Name != sv.Name || got.Flavor["id"] != env["FLAVOR_ID"] || got.Image["id"] != env["IMAGE_ID"] ||
			!maps.Equal(got.Metadata, sv.Metadata) || got.Status != "ACTIVE" {
			t.Errorf("restored server %s %s flavor %v image %v metadata %v, want %s %v %s %s %v", got.Status, got.Name,
				got.Flavor["id"], got.Image["id"], got.Metadata, sv.Name, env["FLAVOR_ID"], env["IMAGE_ID"], "ACTIVE", sv.Metadata)
		}
		if g, w := groupNames(got), groupNames(sv); !slices.Equal(g, w) {
			t.Errorf("security groups %v, want %v", g, w)
		}
		pts := st.ports(ports.ListOpts{DeviceID: id})
		if len(pts) != 1 || pts[0].NetworkID != net.ID || len(pts[0].FixedIPs) != 1 || pts[0].FixedIPs[0].IPAddress != ip ||
			pts[0].FixedIPs[0].SubnetID != sn.ID {
			t.Errorf("ports %+v, want one on %s with %s", pts, net.ID, ip)
		} else if got := st.portFloatingIPs(pts[0].ID); !slices.Equal(got, []string{d.fip.FloatingIP}) {
			t.Errorf("floating IPs %v, want %s", got, d.fip.FloatingIP)
		}
		if got := st.devices(id); len(got) != 1 || got[vol] != device {
			t.Errorf("volumes %v, want %s at %s", got, vol, device)
		}
	})
}

// TestServerOSInfra: through the shipped OS Infra provider the children
// are really restored (a new image from the bank, a volume from its
// backup, a copy of the project's network topology) and the restored
// server is made of them: booted from the new image, on a port of the new
// network with the saved address on the new subnet, in the new security
// group, with the new volume at the saved device.
func TestServerOSInfra(t *testing.T) {
	s := openstacktest.Start(t)
	st := &serverTest{fixtures: newFixtures(t, s), p: newPouch(t, s, nil), provider: osInfra}
	project := s.Env["DEMO_PROJECT_ID"]
	d := st.dressed("10.75.0.0/24")
	sv, net, sn, sg, vol := d.sv, d.net, d.sn, d.sg, d.vol
	ip := st.ports(ports.ListOpts{DeviceID: sv.ID})[0].FixedIPs[0].IPAddress
	device := st.devices(sv.ID)[vol]

	cp := st.checkpoint(st.planFor(sv, nil))
	cpID := cp.Str(t, "checkpoint", "id")
	saved := loadTopology(t, st.p, st.provider, cpID, project)
	n := newNeutronT(t, s.Demo(t))
	before := n.projectIDs(project)
	var nets []string
	t.Cleanup(func() { n.purgeRestored(project, saved, before, nets) })

	rs := st.p.restore(t, osInfra, cpID, nil, 10*time.Minute)
	nets = restoredNetworks(t, rs, len(saved.Networks))
	made := map[string]string{} // type → the new id of the test's image and volume
	for k := range rs.Get(t, "restore", "resources_status").(map[string]any) {
		typ, id, _ := strings.Cut(k, "#")
		made[typ] = id
	}
	if id := made[openstack.TypeVolume]; id != "" {
		t.Cleanup(func() { st.deleteVolume(id) })
	}
	if id := made[openstack.TypeImage]; id != "" {
		gl := imageGlance(t, s)
		t.Cleanup(func() { imageDelete(gl, id) })
	}
	if got := rs.Str(t, "restore", "status"); got != model.RestoreSuccess {
		t.Fatalf("restore %s: %s", got, rs.Raw)
	}
	id, status := restoredServer(t, rs)
	st.dropRestored(id)
	if status != openstack.RestoreAvailable || made[openstack.TypeVolume] == "" || made[openstack.TypeImage] == "" {
		t.Fatalf("resources_status %v", rs.Get(t, "restore", "resources_status"))
	}

	got := st.show(id)
	if got.Name != sv.Name || got.Image["id"] != made[openstack.TypeImage] || !maps.Equal(got.Metadata, sv.Metadata) {
		t.Errorf("restored server %s image %v metadata %v, want %s %s %v", got.Name, got.Image["id"], got.Metadata,
			sv.Name, made[openstack.TypeImage], sv.Metadata)
	}
	pts := st.ports(ports.ListOpts{DeviceID: id})
	if len(pts) != 1 || len(pts[0].FixedIPs) != 1 || pts[0].FixedIPs[0].IPAddress != ip || pts[0].NetworkID == net.ID ||
		!slices.Contains(nets, pts[0].NetworkID) || pts[0].FixedIPs[0].SubnetID == sn.ID {
		t.Errorf("ports %+v, want one with %s on a restored network (not %s)", pts, ip, net.ID)
	}
	if len(pts) == 1 {
		if slices.Contains(pts[0].SecurityGroups, sg.ID) || len(pts[0].SecurityGroups) != 2 {
			t.Errorf("port's security groups %v, want the default one and the copy of %s", pts[0].SecurityGroups, sg.ID)
		}
		// The saved floating IP still belongs to the original server.
		if got := st.portFloatingIPs(pts[0].ID); len(got) != 1 || got[0] == d.fip.FloatingIP {
			t.Errorf("floating IPs %v, want a new one (%s is the original's)", got, d.fip.FloatingIP)
		}
	}
	if g, w := groupNames(got), groupNames(sv); !slices.Equal(g, w) {
		t.Errorf("security groups %v, want %v", g, w)
	}
	if got := st.devices(id); len(got) != 1 || got[made[openstack.TypeVolume]] != device {
		t.Errorf("volumes %v, want %s at %s", got, made[openstack.TypeVolume], device)
	}
}

// TestServerBootFromVolume is Karbor's C7 shape: a server booted from a
// volume, with another attached. Both volumes are its children, the saved
// boot device is the boot volume, and the restored server boots from it.
func TestServerBootFromVolume(t *testing.T) {
	st := newServerTest(t)
	net, _ := st.network(openstacktest.Name(t, "srv-net"), "10.73.0.0/24")
	boot := st.volume(openstacktest.Name(t, "srv-boot"), 1, st.stack.Env["IMAGE_ID"])
	data := st.volume(openstacktest.Name(t, "srv-data"), 1, "")
	sv := st.server(openstacktest.Name(t, "srv"), "", boot.ID, net.ID)
	st.attach(sv.ID, data.ID)
	devs := st.devices(sv.ID)

	cp := st.checkpoint(st.planFor(sv, nil))
	want := []string{openstack.TypeVolume + "#" + boot.ID, openstack.TypeVolume + "#" + data.ID,
		openstack.TypeNetwork + "#" + st.stack.Env["DEMO_PROJECT_ID"]}
	slices.Sort(want)
	if got := serverChildren(t, cp, sv.ID); !slices.Equal(got, want) {
		t.Errorf("server's children %v, want %v", got, want)
	}
	md := st.saved(cp.Str(t, "checkpoint", "id"), sv.ID)
	bm := md.BootMetadata
	if bm.BootDeviceType != server.BootVolume || bm.BootVolumeID != boot.ID || bm.BootImageID != "" ||
		bm.BootAttachMetadata == nil || bm.BootAttachMetadata.Device != devs[boot.ID] {
		t.Errorf("boot metadata %+v, want volume %s at %s", bm, boot.ID, devs[boot.ID])
	}
	if a, b := md.AttachMetadata[boot.ID], md.AttachMetadata[data.ID]; len(md.AttachMetadata) != 2 ||
		!a.Bootable || b.Bootable || a.Device != devs[boot.ID] || b.Device != devs[data.ID] {
		t.Errorf("attach metadata %+v, want %s (bootable) at %s and %s at %s", md.AttachMetadata, boot.ID,
			devs[boot.ID], data.ID, devs[data.ID])
	}

	st.deleteServer(sv.ID)
	for _, v := range []string{boot.ID, data.ID} {
		st.must(st.poll.Wait(t.Context(), "volume detached", st.volumeStatus(v, "available")), "wait")
	}
	rs := st.p.restore(t, st.provider, cp.Str(t, "checkpoint", "id"), nil, 5*time.Minute)
	if got := rs.Str(t, "restore", "status"); got != model.RestoreSuccess {
		t.Fatalf("restore %s: %s", got, rs.Raw)
	}
	id, _ := restoredServer(t, rs)
	st.dropRestored(id)
	if got := st.show(id); len(got.Image) != 0 {
		t.Errorf("restored server boots from image %v", got.Image)
	}
	if got := st.devices(id); !maps.Equal(got, devs) {
		t.Errorf("restored server's volumes %v, want %v", got, devs)
	}
}

// TestServerQuiesce: with quiesce, the server is PAUSED while its
// children's prepare hooks run (the no-op volume hooks sleep), ACTIVE again
// once the checkpoint is made.
func TestServerQuiesce(t *testing.T) {
	st := newServerTest(t)
	net, _ := st.network(openstacktest.Name(t, "srv-net"), "10.74.0.0/24")
	vol := st.volume(openstacktest.Name(t, "srv-vol"), 1, "")
	sv := st.server(openstacktest.Name(t, "srv"), st.stack.Env["IMAGE_ID"], "", net.ID)
	st.attach(sv.ID, vol.ID)
	plan := st.planFor(sv, obj{openstack.TypeServer: obj{"quiesce": true}, openstack.TypeVolume: obj{"delay_ms": 4000}})

	path := "providers/" + st.provider + "/checkpoints"
	cpID := st.p.call(t, "POST", path, obj{"checkpoint": obj{"plan_id": plan}}).OK(t).Str(t, "checkpoint", "id")
	var seen []string
	deadline := time.Now().Add(5 * time.Minute)
	for {
		status := st.show(sv.ID).Status
		if len(seen) == 0 || seen[len(seen)-1] != status {
			seen = append(seen, status)
		}
		cp := st.p.call(t, "GET", path+"/"+cpID, nil).OK(t)
		if s := cp.Str(t, "checkpoint", "status"); s != model.CheckpointProtecting {
			if s != model.CheckpointAvailable {
				t.Fatalf("checkpoint %s: %s", s, cp.Raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("checkpoint still protecting")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !slices.Contains(seen, "PAUSED") {
		t.Errorf("server statuses %v: never PAUSED", seen)
	}
	if got := st.show(sv.ID).Status; got != "ACTIVE" {
		t.Errorf("server %s after the checkpoint, want ACTIVE (seen %v)", got, seen)
	}
	if _, err := bank.GetBytes(t.Context(), st.p.bank(st.t, st.provider), protection.ResourceDataKey(cpID, sv.ID, "quiesce")); err == nil {
		t.Error("the quiesce mark is still in the bank")
	}
	t.Logf("server statuses during protect: %v", seen)
}

func groupNames(sv *servers.Server) []string {
	var out []string
	for _, g := range sv.SecurityGroups {
		if n := fmt.Sprint(g["name"]); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func defaultGroup(t *testing.T, st *serverTest) string {
	t.Helper()
	nc, err := st.cl.Network()
	st.must(err, "network")
	pages, err := groups.List(nc, groups.ListOpts{Name: "default", ProjectID: st.cl.ProjectID}).AllPages(t.Context())
	st.must(err, "list groups")
	all, err := groups.ExtractGroups(pages)
	if err != nil || len(all) != 1 {
		t.Fatalf("default security group: %v %v", all, err)
	}
	return all[0].ID
}

// restoreHook is the restore operation's on_complete of the server plugin
// of the test's provider.
func (st *serverTest) restoreHook(sv *servers.Server) protection.HookFunc {
	pr, err := st.p.App.Providers.Get(st.provider)
	st.must(err, "provider")
	pl, ok := pr.Plugin(openstack.TypeServer)
	if !ok {
		st.t.Fatal("no server plugin")
	}
	op, err := pl.Operation(model.OpRestore, model.Resource{ID: sv.ID, Type: openstack.TypeServer, Name: sv.Name})
	st.must(err, "restore operation")
	return op.Complete
}

// hookContext is a restore hook's context outside the engine.
func (st *serverTest) hookContext(cp string, sv *servers.Server, params obj, nr serverNewResources) *protection.HookContext {
	pr, err := st.p.App.Providers.Get(st.provider)
	st.must(err, "provider")
	return &protection.HookContext{
		Operation: model.OpRestore, Hook: protection.Complete, Attempt: 1,
		Resource:   model.Resource{ID: sv.ID, Type: openstack.TypeServer, Name: sv.Name},
		Parameters: params, CheckpointID: cp, ProviderID: st.provider, ProjectID: st.cl.ProjectID,
		Bank: pr.Bank, Progress: serverProgress{}, NewResources: nr, Status: nr,
		Log: apitest.Logger().With("test", st.t.Name()),
	}
}

// serverNewResources is new_resources in memory; statuses are ignored.
type serverNewResources map[string]string

func (m serverNewResources) Get(_ context.Context, id string) (string, bool, error) {
	v, ok := m[id]
	return v, ok, nil
}

func (m serverNewResources) Set(_ context.Context, id, newID string) error {
	m[id] = newID
	return nil
}

func (m serverNewResources) ReportStatus(context.Context, string, string, string) error { return nil }

type serverProgress struct{}

func (serverProgress) AddTotal(int64) {}
func (serverProgress) AddDone(int64)  {}
