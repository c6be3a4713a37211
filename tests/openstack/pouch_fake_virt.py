# Nova's fake virt driver for the test stack (tests/openstack/start.sh), with the two things
# Nova's own fake.FakeDriver leaves out and the protection plugins need:
#  - snapshot() (createImage) uploads a small, deterministic disk image to Glance, so the
#    snapshot image becomes "active" instead of staying "queued" forever;
#  - volume_snapshot_create/delete (Nova-assisted snapshots, which Cinder's NFS driver asks for
#    when the volume is attached) do what the libvirt driver does: on create, nothing but telling
#    Cinder it is done (Cinder has already written the qcow2 overlay); on delete, the merge (pull
#    or commit) with qemu-img rebase/commit on the files of Cinder's share. Hard links in
#    <share>/.pouch-fake-virt stand for the files a running qemu would hold open, because Cinder
#    deletes a merged file without waiting for Nova when it clones an attached volume (backup
#    --force of an in-use volume); they are dropped on detach and on server delete.
# Everything else is fake.FakeDriver's: no guest runs, nothing is plugged.
# Selected with compute_driver = pouch_fake_virt.PouchFakeDriver (start.sh puts this file on
# nova-compute's PYTHONPATH; POUCH_NOVA_DRIVER=fake.FakeDriver gives Nova's own instead).
import hashlib
import io
import json
import os
import time

from oslo_concurrency import processutils
from oslo_log import log as logging

import nova.conf
from nova.compute import task_states
from nova import exception
from nova.image import glance
from nova import objects
from nova.virt import block_device as driver_block_device
from nova.virt import fake
from nova.volume import cinder

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# What a snapshot image holds: 64 KiB derived from the server's UUID, so that a test can check
# what it restores.
SNAPSHOT_BYTES = 64 * 1024


def snapshot_data(instance_uuid):
    line = ("pouch fake disk of server %s\n" % instance_uuid).encode()
    return (line * (SNAPSHOT_BYTES // len(line) + 1))[:SNAPSHOT_BYTES]


class PouchFakeDriver(fake.FakeDriver):

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        self._image_api = glance.API()
        self._volume_api = cinder.API()

    # --- createImage -------------------------------------------------------------------------
    def snapshot(self, context, instance, image_id, update_task_state):
        if instance.uuid not in self.instances:
            raise exception.InstanceNotRunning(instance_id=instance.uuid)
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        image = self._image_api.get(context, image_id)
        meta = {"disk_format": image.get("disk_format") or "raw",
                "container_format": image.get("container_format") or "bare"}
        self._image_api.update(context, image_id, meta, data=io.BytesIO(snapshot_data(instance.uuid)),
                               purge_props=False)

    # --- Nova-assisted volume snapshots (Cinder's NFS driver, attached volumes) ---------------
    def _snapshot_status(self, context, snapshot_id, status):
        try:
            self._volume_api.update_snapshot_status(context, snapshot_id, status)
        except exception.SnapshotNotFound:
            # Cinder's temporary snapshots (clone of an attached volume) are gone before Nova
            # reports: Cinder did not wait (see KEEP_DIR).
            LOG.warning("snapshot %s is gone already: status %s not sent", snapshot_id, status)
        except Exception:
            LOG.exception("cannot update the status of snapshot %s", snapshot_id)

    def _refresh_connection_info(self, context, instance, volume_id):
        try:
            bdm = objects.BlockDeviceMapping.get_by_volume_and_instance(context, volume_id, instance.uuid)
            driver_bdm = driver_block_device.convert_volume(bdm)
            if driver_bdm:
                driver_bdm.refresh_connection_info(context, instance, self._volume_api, self)
        except Exception:
            LOG.exception("cannot refresh the connection info of volume %s", volume_id)

    def _volume_dir(self, context, instance, volume_id):
        bdm = objects.BlockDeviceMapping.get_by_volume_and_instance(context, volume_id, instance.uuid)
        info = json.loads(bdm.connection_info or "{}")
        data = info.get("data", {})
        export = data.get("export")
        if not export:
            raise exception.InternalError("volume %s: no NFS export in its connection info" % volume_id)
        base = data.get("mount_point_base") or info.get("mount_point_base") or CONF.libvirt.nfs_mount_point_base
        return os.path.join(base, hashlib.md5(export.encode()).hexdigest())

    # Cinder hands over files by name and may delete a file as soon as it has asked Nova to merge
    # it away (it does when cloning an attached volume, e.g. for a backup with --force: the
    # temporary snapshot's progress is already 90%, so Cinder does not wait). A running qemu keeps
    # such a file open and still reads it; here, hard links in KEEP_DIR play the open file: every
    # file of the chain gets one, and the merges read through them.
    KEEP_DIR = ".pouch-fake-virt"

    def _keep(self, vdir, top, volume_id):
        """Hard-links every file of top's backing chain (top included) into the keep directory."""
        keep = os.path.join(vdir, self.KEEP_DIR)
        os.makedirs(keep, exist_ok=True)
        path = os.path.join(vdir, top)
        for _ in range(256):
            name = os.path.basename(path)
            link = os.path.join(keep, name)
            if not os.path.exists(link):
                if not os.path.exists(path):
                    break
                os.link(path, link)
            backing, _fmt = self._backing(link)
            if backing is None:
                break
            path = os.path.join(vdir, os.path.basename(backing))

    def _prune(self, vdir, active, volume_id):
        """Drops the links of volume_id's files that are no longer in active's chain."""
        keep = os.path.join(vdir, self.KEEP_DIR)
        chain, path = set(), os.path.join(keep, active)
        for _ in range(256):
            chain.add(os.path.basename(path))
            if not os.path.exists(path):
                break
            backing, _fmt = self._backing(path)
            if backing is None:
                break
            path = os.path.join(keep, os.path.basename(backing))
        prefix = "volume-%s" % volume_id
        for name in os.listdir(keep) if os.path.isdir(keep) else []:
            if name.startswith(prefix) and name not in chain:
                os.unlink(os.path.join(keep, name))

    def _drop_kept(self, vdir, volume_id):
        keep = os.path.join(vdir, self.KEEP_DIR)
        prefix = "volume-%s" % volume_id
        for name in os.listdir(keep) if os.path.isdir(keep) else []:
            if name.startswith(prefix):
                os.unlink(os.path.join(keep, name))

    def _forget(self, connection_info):
        """Drops the kept files of a volume that leaves the server."""
        try:
            connection_info = connection_info or {}
            data = connection_info.get("data") or {}
            volume_id = connection_info.get("serial") or data.get("volume_id")
            export = data.get("export")
            if volume_id and export:
                base = (connection_info.get("mount_point_base") or data.get("mount_point_base") or
                        CONF.libvirt.nfs_mount_point_base)
                self._drop_kept(os.path.join(base, hashlib.md5(export.encode()).hexdigest()), volume_id)
        except Exception:
            LOG.exception("cannot drop the kept files of %s", (connection_info or {}).get("serial"))

    def detach_volume(self, context, connection_info, instance, mountpoint, encryption=None):
        super().detach_volume(context, connection_info, instance, mountpoint, encryption)
        self._forget(connection_info)

    def destroy(self, context, instance, network_info, block_device_info=None, destroy_disks=True,
                destroy_secrets=True):
        super().destroy(context, instance, network_info, block_device_info, destroy_disks, destroy_secrets)
        for bdm in (block_device_info or {}).get("block_device_mapping") or []:
            self._forget(bdm.get("connection_info"))

    def volume_snapshot_create(self, context, instance, volume_id, create_info):
        LOG.debug("volume_snapshot_create: %s", create_info, instance=instance)
        snapshot_id = create_info.get("snapshot_id")
        if create_info.get("type") != "qcow2" or snapshot_id is None:
            raise exception.InternalError("unsupported create_info %s" % create_info)
        # Cinder has created create_info["new_file"] on top of the active file; a guest would
        # now switch to it. There is no guest: keep the chain, say it is done and wait for Cinder.
        try:
            self._keep(self._volume_dir(context, instance, volume_id), create_info["new_file"], volume_id)
        except Exception:
            LOG.exception("volume_snapshot_create: cannot keep the chain of %s", create_info["new_file"])
            self._snapshot_status(context, snapshot_id, "error")
            raise
        self._snapshot_status(context, snapshot_id, "creating")
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if self._volume_api.get_snapshot(context, snapshot_id).get("status") != "creating":
                    break
            except exception.SnapshotNotFound:
                break  # a temporary snapshot of Cinder's, gone already
            except Exception:
                LOG.exception("cannot read snapshot %s", snapshot_id)
            time.sleep(0.5)
        self._refresh_connection_info(context, instance, volume_id)

    def _qemu_img(self, *args):
        return processutils.execute("qemu-img", *args)[0]

    def _backing(self, path):
        info = json.loads(self._qemu_img("info", "--output=json", "--force-share", path))
        return info.get("backing-filename"), info.get("format")

    def _fmt(self, path):
        return json.loads(self._qemu_img("info", "--output=json", "--force-share", path))["format"]

    def _active(self, vdir, volume_id):
        """The volume's active file, from Cinder's info file (which Cinder may be rewriting)."""
        name = "volume-%s" % volume_id
        info_file = os.path.join(vdir, name + ".info")
        for _ in range(50):
            if not os.path.exists(info_file):
                return name
            try:
                with open(info_file) as f:
                    return json.load(f).get("active", name)
            except ValueError:
                time.sleep(0.1)
        raise exception.InternalError("cannot read %s" % info_file)

    def _volume_snapshot_delete(self, context, instance, volume_id, delete_info):
        if delete_info.get("type") != "qcow2":
            raise exception.InternalError("unknown delete_info type %s" % delete_info.get("type"))
        vdir = self._volume_dir(context, instance, volume_id)
        keep = os.path.join(vdir, self.KEEP_DIR)
        active = self._active(vdir, volume_id)
        active_path = os.path.join(vdir, active)
        self._keep(vdir, active, volume_id)
        # The active file reads its backing file through the keep directory from now on.
        backing, _fmt = self._backing(os.path.join(keep, active))
        if backing is not None:
            kb = os.path.join(keep, os.path.basename(backing))
            self._qemu_img("rebase", "-u", "-b", kb, "-F", self._fmt(kb), active_path)
        to_merge = delete_info.get("file_to_merge")
        target = delete_info.get("merge_target_file")
        if target is None:
            # Pull: the active image takes the data of its backing files down to to_merge
            # (nothing left: no backing file at all), like libvirt's blockRebase.
            if to_merge is None:
                self._qemu_img("rebase", "-b", "", active_path)
            else:
                name = os.path.basename(to_merge)
                self._qemu_img("rebase", "-b", name, "-F", self._fmt(os.path.join(keep, name)), active_path)
        else:
            # Commit to_merge into its backing file target, then point the image above to_merge
            # at target, like libvirt's blockCommit.
            to_merge = os.path.basename(to_merge)
            target = os.path.basename(target)
            higher, path = None, active_path
            for _ in range(256):
                backing, _fmt = self._backing(path)
                if backing is None:
                    break
                if os.path.basename(backing) == to_merge:
                    higher = path
                    break
                path = os.path.join(keep, os.path.basename(backing))
            if higher is None:
                raise exception.InternalError("%s is not in the backing chain of %s" % (to_merge, active))
            self._qemu_img("commit", "-d", os.path.join(keep, to_merge))
            # (higher may be a link in keep: the same file)
            self._qemu_img("rebase", "-u", "-b", target, "-F", self._fmt(os.path.join(keep, target)), higher)
        # Back to relative names inside the share, as Cinder writes them.
        backing, _fmt = self._backing(active_path)
        if backing is not None and os.path.dirname(backing) == keep:
            name = os.path.basename(backing)
            self._qemu_img("rebase", "-u", "-b", name, "-F", self._fmt(os.path.join(keep, name)), active_path)
        self._prune(vdir, active, volume_id)

    def volume_snapshot_delete(self, context, instance, volume_id, snapshot_id, delete_info):
        LOG.debug("volume_snapshot_delete: %s", delete_info, instance=instance)
        try:
            self._volume_snapshot_delete(context, instance, volume_id, delete_info)
        except Exception:
            LOG.exception("volume_snapshot_delete failed, snapshot %s", snapshot_id)
            self._snapshot_status(context, snapshot_id, "error_deleting")
            raise
        self._snapshot_status(context, snapshot_id, "deleting")
        self._refresh_connection_info(context, instance, volume_id)
