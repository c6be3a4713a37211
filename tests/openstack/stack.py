#!/usr/bin/python3
# Helper of tests/openstack/start.sh (Debian's python3 and its OpenStack libraries):
#   stack.py keystone CONF   service project, role "service", one user per service (roles admin and
#                            service on project service), services and endpoints (public, internal,
#                            admin) and the demo project and user (role member), in a fresh Keystone;
#                            prints ADMIN_PROJECT_ID=, SERVICE_PROJECT_ID=, DEMO_PROJECT_ID=, DEMO_USER_ID=
#   stack.py wait NAME...    waits until each named service answers as ready (see READY below)
#   stack.py wait-compute    waits until nova-compute has a compute node in Nova
#   stack.py post            creates the test flavor and image; prints FLAVOR_ID=... IMAGE_ID=...
#   stack.py nova-db CONF CELL0_URL
#                            nova-manage api_db sync, cell_v2 map_cell0, cell_v2 create_cell --name
#                            cell1 and db sync, in one process (each nova-manage costs seconds of CPU)
# Everything it needs comes from the environment (start.sh exports it). It prints one line per
# readiness step to stderr and exits non-zero with the reason when a step times out.
import os
import sys
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

E = os.environ
REGION = E.get("OS_REGION_NAME", "RegionOne")


def log(msg):
    print("stack.py: " + msg, file=sys.stderr, flush=True)


def admin_session():
    auth = v3.Password(auth_url=E["OS_AUTH_URL"], username=E["OS_USERNAME"], password=E["OS_PASSWORD"],
                       project_name=E["OS_PROJECT_NAME"], user_domain_name="Default",
                       project_domain_name="Default")
    return ks_session.Session(auth=auth, timeout=30)


# Services: (user, catalog type, catalog name, env var holding the public URL)
SERVICES = [
    ("glance", "image", "glance", "GLANCE_URL"),
    ("cinder", "volumev3", "cinderv3", "CINDER_URL"),
    ("cinder", "block-storage", "cinder", "CINDER_URL"),
    ("nova", "compute", "nova", "NOVA_URL"),
    ("placement", "placement", "placement", "PLACEMENT_URL"),
    ("neutron", "network", "neutron", "NEUTRON_URL"),
]
USERS = ["glance", "cinder", "nova", "placement", "neutron"]


def keystone(conf):
    # In-process, like keystone-manage bootstrap: through Keystone's own managers on its database,
    # not its API (dozens of API calls took half a minute on a loaded machine).
    import uuid
    import keystone.conf
    from keystone.common import provider_api
    from keystone.common import sql
    from keystone import exception
    from keystone.server import backends

    CONF = keystone.conf.CONF
    keystone.conf.configure()
    sql.initialize()
    CONF(args=["--config-file", conf], project="keystone")
    backends.load_backends()
    P = provider_api.ProviderAPIs
    domain_id = "default"

    def project(name):
        pid = uuid.uuid4().hex
        return P.resource_api.create_project(pid, {"id": pid, "name": name, "domain_id": domain_id,
                                                   "enabled": True, "description": ""})["id"]

    def user(name, password, default_project_id=None):
        ref = {"name": name, "domain_id": domain_id, "enabled": True, "password": password}
        if default_project_id:
            ref["default_project_id"] = default_project_id
        return P.identity_api.create_user(ref)["id"]

    roles = {r["name"]: r["id"] for r in P.role_api.list_roles()}
    if "service" not in roles:
        rid = uuid.uuid4().hex
        roles["service"] = P.role_api.create_role(rid, {"id": rid, "name": "service"})["id"]
    admin_project = P.resource_api.get_project_by_name("admin", domain_id)["id"]
    service_project = project("service")
    demo_project = project(E["DEMO_PROJECT"])
    for name in USERS:
        uid = user(name, E["PW_" + name.upper()])
        for r in ("admin", "service"):
            P.assignment_api.add_role_to_user_and_project(user_id=uid, project_id=service_project,
                                                          role_id=roles[r])
    demo_user = user(E["DEMO_USER"], E["DEMO_PASSWORD"], demo_project)
    P.assignment_api.add_role_to_user_and_project(user_id=demo_user, project_id=demo_project,
                                                  role_id=roles["member"])
    for _, stype, sname, var in SERVICES:
        sid = uuid.uuid4().hex
        P.catalog_api.create_service(sid, {"id": sid, "name": sname, "type": stype, "enabled": True})
        for interface in ("public", "internal", "admin"):
            eid = uuid.uuid4().hex
            P.catalog_api.create_endpoint(eid, {"id": eid, "interface": interface, "url": E[var],
                                                "service_id": sid, "region_id": REGION, "enabled": True})
    print("ADMIN_PROJECT_ID=%s" % admin_project)
    print("SERVICE_PROJECT_ID=%s" % service_project)
    print("DEMO_PROJECT_ID=%s" % demo_project)
    print("DEMO_USER_ID=%s" % demo_user)


# --- readiness ---------------------------------------------------------------------------------

def _ok(sess, url, expect=(200,), **kw):
    try:
        r = sess.get(url, raise_exc=False, timeout=10, **kw)
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure, ks_exc.RetriableConnectionFailure):
        return None
    return r if r.status_code in expect else None


def ready_glance(sess):
    return _ok(sess, E["GLANCE_URL"] + "/v2/images?limit=1") is not None


def ready_placement(sess):
    return _ok(sess, E["PLACEMENT_URL"] + "/resource_providers") is not None


def ready_neutron(sess):
    return _ok(sess, E["NEUTRON_URL"] + "/v2.0/networks?limit=1") is not None


def ready_cinder(sess):
    # The API answers, the volume and backup services are up and the scheduler knows a pool.
    base = E["CINDER_URL"].replace("%(project_id)s", sess.get_project_id())
    r = _ok(sess, base + "/os-services")
    if r is None:
        return False
    up = {s["binary"] for s in r.json()["services"] if s["state"] == "up" and s["status"] == "enabled"}
    if not {"cinder-scheduler", "cinder-volume", "cinder-backup"} <= up:
        return False
    r = _ok(sess, base + "/scheduler-stats/get_pools")
    return r is not None and len(r.json().get("pools", [])) > 0


def ready_nova_api(sess):
    return _ok(sess, E["NOVA_URL"] + "/flavors") is not None


def ready_compute_node(sess):
    # nova-compute has created its compute node and its resource provider (what
    # nova-manage cell_v2 discover_hosts needs; Nova lists hypervisors only once mapped).
    r = _ok(sess, E["PLACEMENT_URL"] + "/resource_providers")
    return r is not None and len(r.json().get("resource_providers", [])) > 0


def ready_hypervisor(sess):
    r = _ok(sess, E["NOVA_URL"] + "/os-hypervisors")
    return r is not None and len(r.json().get("hypervisors", [])) > 0


def ready_nova(sess):
    # nova-compute is up and mapped to the cell (the hypervisor list reads mapped hosts only) and
    # placement has its inventory, so a boot can be scheduled.
    r = _ok(sess, E["NOVA_URL"] + "/os-services?binary=nova-compute")
    if r is None or not any(s["state"] == "up" for s in r.json()["services"]):
        return False
    if not ready_hypervisor(sess):
        return False
    r = _ok(sess, E["PLACEMENT_URL"] + "/allocation_candidates?resources=VCPU:1,MEMORY_MB:64,DISK_GB:1",
            headers={"OpenStack-API-Version": "placement 1.10"})
    return r is not None and len(r.json().get("allocation_requests", [])) > 0


READY = {
    "glance": ready_glance,
    "placement": ready_placement,
    "neutron": ready_neutron,
    "cinder": ready_cinder,
    "nova-api": ready_nova_api,
    "compute-node": ready_compute_node,
    "nova": ready_nova,
}


def wait(names, timeout):
    sess = admin_session()
    deadline = time.time() + timeout
    pending = list(names)
    t0 = time.time()
    while pending:
        for name in list(pending):
            try:
                ok = READY[name](sess)
            except (ks_exc.ClientException, ValueError, KeyError):
                ok = False
            if ok:
                log("%s ready after %.1f s" % (name, time.time() - t0))
                pending.remove(name)
        if not pending:
            break
        if time.time() > deadline:
            log("not ready after %d s: %s" % (timeout, " ".join(pending)))
            print(" ".join(pending))
            sys.exit(1)
        time.sleep(0.5)


def post():
    sess = admin_session()
    nova = E["NOVA_URL"]
    flavor_name = E.get("FLAVOR_NAME", "pouch.tiny")
    r = sess.get(nova + "/flavors/detail", raise_exc=True).json()
    flavor = next((f for f in r["flavors"] if f["name"] == flavor_name), None)
    if flavor is None:
        flavor = sess.post(nova + "/flavors", json={"flavor": {
            "name": flavor_name, "ram": 64, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": True}},
            raise_exc=True).json()["flavor"]
    glance = E["GLANCE_URL"]
    image_name = E.get("IMAGE_NAME", "pouch-test-image")
    imgs = sess.get(glance + "/v2/images?name=" + image_name, raise_exc=True).json()["images"]
    image = next((i for i in imgs if i["status"] == "active"), None)
    if image is None:
        image = sess.post(glance + "/v2/images", json={
            "name": image_name, "disk_format": "raw", "container_format": "bare",
            "visibility": "public", "min_disk": 0, "min_ram": 0}, raise_exc=True).json()
        sess.put(glance + "/v2/images/%s/file" % image["id"], data=b"pouch test image\n" * 64,
                 headers={"Content-Type": "application/octet-stream"}, raise_exc=True)
    print("FLAVOR_ID=%s" % flavor["id"])
    print("FLAVOR_NAME=%s" % flavor_name)
    print("IMAGE_ID=%s" % image["id"])
    print("IMAGE_NAME=%s" % image_name)


def nova_db(conf, cell0_url):
    from nova.cmd import manage
    t0 = time.time()
    sys.argv = ["nova-manage", "--config-file", conf, "api_db", "sync"]
    if manage.main() not in (None, 0):
        raise SystemExit("stack.py: nova-manage api_db sync failed")
    log("api_db sync done in %.1f s" % (time.time() - t0))
    cells = manage.CellV2Commands()
    if cells.map_cell0(database_connection=cell0_url) not in (None, 0):
        raise SystemExit("stack.py: nova-manage cell_v2 map_cell0 failed")
    if cells.create_cell(name="cell1", verbose=True) not in (None, 0):
        raise SystemExit("stack.py: nova-manage cell_v2 create_cell failed")
    log("cells mapped after %.1f s" % (time.time() - t0))
    if manage.DbCommands().sync() not in (None, 0):
        raise SystemExit("stack.py: nova-manage db sync failed")
    log("db sync done after %.1f s" % (time.time() - t0))


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: stack.py keystone | wait [--timeout S] NAME... | post")
    cmd = sys.argv[1]
    if cmd == "keystone":
        keystone(sys.argv[2])
    elif cmd == "wait":
        args = sys.argv[2:]
        timeout = 120
        if args[:1] == ["--timeout"]:
            timeout = float(args[1])
            args = args[2:]
        for a in args:
            if a not in READY:
                raise SystemExit("stack.py: unknown service %s" % a)
        wait(args, timeout)
    elif cmd == "post":
        post()
    elif cmd == "nova-db":
        nova_db(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("stack.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
