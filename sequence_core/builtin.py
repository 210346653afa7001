"""The core's own plugin: the built-in ``sor`` policy, the ``store`` and ``profiles`` research scanners
the ``live`` market-data source (venue adapters' feeds) and the ``udp`` mesh transport,
registered through the same hooks as everyone else's so ``--policy``, ``research scan`` and
``sequence plugins`` treat them alike."""

from .hookspecs import hookimpl


@hookimpl
def register_policies(register):
    from .policy import SorPolicy

    register(SorPolicy())


@hookimpl
def register_scanners(register):
    from .research.features import BUILTIN
    from .research.scan import ProfilesScanner, StoreScanner

    register(StoreScanner())
    register(ProfilesScanner())
    for item in BUILTIN:          # features and labels for research feature-eval
        register(item)


@hookimpl
def register_market_data_sources(register):
    from .feeds import LiveSource

    register(LiveSource())


@hookimpl
def register_mesh_transports(register):
    from .deploy.mesh import UdpTransport

    register(UdpTransport)
