"""Every hook a Sequence plugin can implement.

A plugin is any module or object registered under the entry-point group ``sequence``.
Hooks that build a registry take a ``register`` callback: the plugin calls
``register(thing)`` and the core owns ordering, naming and conflicts. Arguments are
keyword-only by name, so adding an argument never breaks an older plugin.
See docs/plugins.md for a worked example of each hook.
"""

import pluggy

hookspec = pluggy.HookspecMarker("sequence")
hookimpl = pluggy.HookimplMarker("sequence")


@hookspec
def register_venues(register):
    """Register venues: ``register(venue)`` with a :class:`sequence_core.venues.Venue`."""


@hookspec
def register_policies(register):
    """Register execution policies for ``--policy``: ``register(policy)`` with a
    :class:`sequence_core.policy.Policy` (docs/policies.md)."""


@hookspec
def register_latency_models(register):
    """Register sim-engine latency models (feed, entry, modify, cancel, response); see sequence_core/sim/models.py."""


@hookspec
def register_queue_models(register):
    """Register sim-engine queue-position models for resting orders; see sequence_core/sim/models.py."""


@hookspec
def register_market_data_sources(register):
    """Register market-data sources for ``--source``: ``register(source)`` with a
    :class:`sequence_core.market.MarketDataSource` (synthetic, replay, live, ...)."""


@hookspec
def register_scanners(register):
    """Register research scanners, profile fields, features and labels."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the root ``sequence`` command group."""


@hookspec
def register_fee_models(register):
    """Register sim-engine fee models (maker/taker rates per instrument)."""


@hookspec
def register_mesh_transports(register):
    """Register what carries a deployment's mesh between its edges: ``register(factory)``, a
    class or callable with a ``name``, called ``(mode, deployment, label)``, that returns a
    :class:`sequence_core.deploy.mesh.MeshTransport` (the core's is ``udp`` on loopback)."""
