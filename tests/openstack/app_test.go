package openstack_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/tests/openstacktest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// tier is one server of the application as the test sees it: what is
// compared before and after.
type tier struct {
	name, flavor, image string            // image: the boot image's checksum ("" when booted from a volume)
	metadata            map[string]string //
	groups              []string          // security group names
	ip, network         string            // fixed IP and its network's name
	disks               map[string]disk   // by device
}

// disk is a volume attached to a tier.
type disk struct {
	name     string
	size     int
	bootable string
	tag      string // what volTest.fill wrote ("" for a boot volume)
}

// TestThreeTierApplication: a network with a router, a web server booted
// from an image and a database server booted from a volume, each with an
// attached data volume, is protected into Swift with a plan that lists only
// the two servers (the image, the volumes and the network come as their
// dependencies); everything is deleted; the checkpoint is restored; the
// restored application is compared with the original field by field:
// names, flavors, metadata, security groups, fixed IPs, networks, subnets,
// the router's interface, volume names, sizes, devices and bootability, the
// volumes' data (written before, read after the backup-restore round trip),
// and the web server's image checksum (that of the snapshot of its disk
// taken at protect time, as Karbor's image plugin does for a server's
// image).
func TestThreeTierApplication(t *testing.T) {
	s := openstacktest.Start(t)
	sw := swifttest.Start(t)
	p := newPouch(t, s, map[string]string{"os-infra-swift.conf": osInfraSwiftConf(sw, "app-"+t.Name())})
	f := newFixtures(t, s)
	st := &serverTest{fixtures: f, p: p, provider: osInfraSwift}
	v := &volTest{T: t, stack: s, p: p, f: f}
	n := newNeutronT(t, f.cl)
	project := s.Env["DEMO_PROJECT_ID"]
	name := func(what string) string { return openstacktest.Name(t, "app-"+what) }
	compute, err := f.cl.Compute()
	f.must(err, "compute")
	nc, err := f.cl.Network()
	f.must(err, "network")

	// The application.
	net, sn := f.network(name("net"), "10.90.0.0/24")
	router, err := routers.Create(t.Context(), nc, routers.CreateOpts{Name: name("router")}).Extract()
	f.must(err, "router")
	t.Cleanup(func() { n.logErr(n.deleteRouter(router.ID)) })
	iface, err := routers.AddInterface(t.Context(), nc, router.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
	f.must(err, "router interface")
	sg := st.securityGroup(name("sg"))
	webData := f.volume(name("web-data"), 1, "")
	v.fill(webData.ID, "web")
	web := f.server(name("web"), s.Env["IMAGE_ID"], "", net.ID)
	dbBoot := f.volume(name("db-boot"), 1, s.Env["IMAGE_ID"])
	dbData := f.volume(name("db-data"), 1, "")
	v.fill(dbData.ID, "db")
	db := f.server(name("db"), "", dbBoot.ID, net.ID)
	for _, sv := range []*servers.Server{web, db} {
		f.must(secgroups.AddServer(t.Context(), compute, sv.ID, sg.Name).ExtractErr(), "security group")
		_, err := servers.UpdateMetadata(t.Context(), compute, sv.ID, servers.MetadataOpts{"app": "shop", "tier": sv.Name}).Extract()
		f.must(err, "metadata")
	}
	f.attach(web.ID, webData.ID)
	f.attach(db.ID, dbData.ID)
	tags := map[string]string{webData.ID: "web", dbData.ID: "db"}
	want := map[string]tier{}
	for _, sv := range []*servers.Server{web, db} {
		want[sv.Name] = readTier(t, st, sv.ID, tags)
	}
	wantIface := ifaceIP(t, st, router.ID)
	if iface.SubnetID != sn.ID || wantIface == "" {
		t.Fatalf("router interface %+v", iface)
	}

	// Protect the servers alone.
	plan := p.plan(t, osInfraSwift, []model.Resource{{ID: web.ID, Type: openstack.TypeServer, Name: web.Name},
		{ID: db.ID, Type: openstack.TypeServer, Name: db.Name}}, nil)
	cp := p.protect(t, osInfraSwift, plan, 20*time.Minute)
	if got := cp.Str(t, "checkpoint", "status"); got != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", got, cp.Raw)
	}
	cpID := cp.Str(t, "checkpoint", "id")
	t.Cleanup(func() { p.deleteCheckpoint(t, osInfraSwift, cpID, 10*time.Minute) })
	for sv, kids := range map[string][]string{
		web.ID: {openstack.TypeImage + "#" + s.Env["IMAGE_ID"], openstack.TypeVolume + "#" + webData.ID, openstack.TypeNetwork + "#" + project},
		db.ID:  {openstack.TypeVolume + "#" + dbBoot.ID, openstack.TypeVolume + "#" + dbData.ID, openstack.TypeNetwork + "#" + project},
	} {
		if got := serverChildren(t, cp, sv); !containsAll(got, kids) {
			t.Errorf("server %s's dependencies in the checkpoint: %v, want %v", sv, got, kids)
		}
	}
	saved := loadTopology(t, p, osInfraSwift, cpID, project)
	// The web server's image node holds a snapshot of the server (Karbor's
	// enable_server_snapshot): its disk as it was, which the restored server
	// must boot from.
	snap := imageMetadata(t, p.bank(t, osInfraSwift), cpID, s.Env["IMAGE_ID"])
	if snap.ServerID != web.ID || snap.ImageMetadata.Checksum == "" {
		t.Fatalf("the image node of the web server: %+v, want a snapshot of server %s", snap, web.ID)
	}
	w := want[web.Name]
	w.image = snap.ImageMetadata.Checksum
	want[web.Name] = w

	// Lose it all.
	st.dropRestored(web.ID)()
	st.dropRestored(db.ID)()
	for _, id := range []string{webData.ID, dbData.ID, dbBoot.ID} {
		f.deleteVolume(id)
	}
	f.must(n.deleteRouter(router.ID), "delete router")
	f.must(n.deleteNetwork(net.ID), "delete network")
	f.must(n.del(cGroups, sg.ID), "delete group")

	// Restore, and clean up whatever it made.
	before := n.projectIDs(project)
	var nets []string
	t.Cleanup(func() { n.purgeRestored(project, saved, before, nets) })
	rs := p.restore(t, osInfraSwift, cpID, nil, 20*time.Minute)
	made := map[string][]string{}
	for k := range rs.Get(t, "restore", "resources_status").(map[string]any) {
		typ, id, _ := strings.Cut(k, "#")
		made[typ] = append(made[typ], id)
	}
	nets = made[openstack.TypeNetwork]
	for _, id := range made[openstack.TypeVolume] {
		t.Cleanup(func() { f.deleteVolume(id) })
	}
	for _, id := range made[openstack.TypeServer] {
		st.dropRestored(id) // cleanups run last first: the servers before their volumes
	}
	gl := imageGlance(t, s)
	for _, id := range made[openstack.TypeImage] {
		t.Cleanup(func() { imageDelete(gl, id) })
	}
	if got := rs.Str(t, "restore", "status"); got != model.RestoreSuccess {
		t.Fatalf("restore %s: %s", got, rs.Raw)
	}
	for typ, count := range map[string]int{openstack.TypeServer: 2, openstack.TypeVolume: 3, openstack.TypeImage: 1} {
		if len(made[typ]) != count {
			t.Errorf("restored %d %s, want %d: %v", len(made[typ]), typ, count, made)
		}
	}
	for _, st := range rs.Get(t, "restore", "resources_status").(map[string]any) {
		if st != openstack.RestoreAvailable {
			t.Errorf("resources_status %v: all should be available", rs.Get(t, "restore", "resources_status"))
			break
		}
	}

	// Compare.
	newTags := map[string]string{} // restored data volumes, by the tag of their original
	bs, err := f.cl.BlockStorage()
	f.must(err, "block storage")
	for _, id := range made[openstack.TypeVolume] {
		vol, err := volumes.Get(t.Context(), bs, id).Extract()
		f.must(err, "restored volume")
		switch vol.Name {
		case webData.Name:
			newTags[id] = "web"
		case dbData.Name:
			newTags[id] = "db"
		}
	}
	for _, id := range made[openstack.TypeServer] {
		got := readTier(t, st, id, newTags)
		w, ok := want[got.name]
		if !ok {
			t.Errorf("restored server %s is called %q, not as an original", id, got.name)
			continue
		}
		if got.flavor != w.flavor || got.image != w.image || !maps.Equal(got.metadata, w.metadata) ||
			!slices.Equal(got.groups, w.groups) || got.ip != w.ip || got.network != w.network {
			t.Errorf("server %s restored as\n %+v\nwant\n %+v", w.name, got, w)
		}
		if !maps.Equal(got.disks, w.disks) {
			t.Errorf("server %s's volumes restored as %+v, want %+v", w.name, got.disks, w.disks)
		}
	}
	for id, tag := range newTags {
		v.holds(id, tag)
	}
	// The network: the restored one has the same subnet, and a router
	// with an interface at the same address.
	var restoredNet *networks.Network
	for _, id := range nets {
		if got, err := networks.Get(t.Context(), nc, id).Extract(); err == nil && got.Name == net.Name {
			restoredNet = got
		}
	}
	if restoredNet == nil {
		t.Fatalf("no restored network named %s among %v", net.Name, nets)
	}
	pages, err := subnets.List(nc, subnets.ListOpts{NetworkID: restoredNet.ID}).AllPages(t.Context())
	f.must(err, "subnets")
	sns, err := subnets.ExtractSubnets(pages)
	f.must(err, "subnets")
	if len(sns) != 1 || sns[0].Name != sn.Name || sns[0].CIDR != sn.CIDR || sns[0].GatewayIP != sn.GatewayIP {
		t.Errorf("restored subnets %+v, want one like %+v", sns, sn)
	}
	ifaces := st.ports(ports.ListOpts{NetworkID: restoredNet.ID, DeviceOwner: "network:router_interface"})
	if len(ifaces) != 1 || len(ifaces[0].FixedIPs) != 1 || ifaces[0].FixedIPs[0].IPAddress != wantIface {
		t.Errorf("router interfaces on the restored network %+v, want one at %s", ifaces, wantIface)
	} else if r, err := routers.Get(t.Context(), nc, ifaces[0].DeviceID).Extract(); err != nil || r.Name != router.Name {
		t.Errorf("the interface's router: %+v, %v; want one named %s", r, err, router.Name)
	}
}

// readTier reads what the test compares of server id; tags name the data
// volumes (by id) whose fill tag is known.
func readTier(t *testing.T, st *serverTest, id string, tags map[string]string) tier {
	t.Helper()
	sv := st.show(id)
	tr := tier{name: sv.Name, flavor: sv.Flavor["id"].(string), metadata: sv.Metadata, groups: groupNames(sv),
		disks: map[string]disk{}}
	if img, _ := sv.Image["id"].(string); img != "" {
		gl := imageGlance(t, st.stack)
		im, err := images.Get(t.Context(), gl, img).Extract()
		st.must(err, "image")
		tr.image = im.Checksum
	}
	pts := st.ports(ports.ListOpts{DeviceID: id})
	if len(pts) != 1 || len(pts[0].FixedIPs) != 1 {
		t.Fatalf("server %s ports %+v, want one with one address", sv.Name, pts)
	}
	tr.ip = pts[0].FixedIPs[0].IPAddress
	nc, err := st.cl.Network()
	st.must(err, "network")
	netw, err := networks.Get(t.Context(), nc, pts[0].NetworkID).Extract()
	st.must(err, "network of the port")
	tr.network = netw.Name
	bs, err := st.cl.BlockStorage()
	st.must(err, "block storage")
	for vol, dev := range st.devices(id) {
		v, err := volumes.Get(t.Context(), bs, vol).Extract()
		st.must(err, "volume")
		tr.disks[dev] = disk{name: v.Name, size: v.Size, bootable: v.Bootable, tag: tags[vol]}
	}
	return tr
}

// ifaceIP is the address of router's one interface.
func ifaceIP(t *testing.T, st *serverTest, router string) string {
	t.Helper()
	pts := st.ports(ports.ListOpts{DeviceID: router, DeviceOwner: "network:router_interface"})
	if len(pts) != 1 || len(pts[0].FixedIPs) != 1 {
		t.Fatalf("router %s interfaces %+v", router, pts)
	}
	return pts[0].FixedIPs[0].IPAddress
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}
