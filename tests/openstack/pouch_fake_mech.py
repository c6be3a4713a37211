# An ML2 mechanism driver for the test stack (tests/openstack/start.sh): it binds every port
# that asks for a host, on its first segment, as an OVS port that is ACTIVE at once. There are
# no L2 agents in the test stack, so without it Nova's ports end up binding_failed and servers
# cannot boot. Nothing is plugged anywhere: Nova runs the fake virt driver.
# start.sh copies this file beside a dist-info that registers it as the entry point
# "pouch_fake" in neutron.ml2.mechanism_drivers, and puts that directory on neutron-server's
# PYTHONPATH.
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class PouchFakeMechanismDriver(api.MechanismDriver):
    """Binds any port on any host, with no agent."""

    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True,
                 portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE)
            return
