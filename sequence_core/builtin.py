"""The core's own plugin: the built-in ``sor`` policy, registered through the same hook
as every other policy so ``--policy`` and ``sequence plugins`` treat it alike."""

from .hookspecs import hookimpl


@hookimpl
def register_policies(register):
    from .policy import SorPolicy

    register(SorPolicy())


@hookimpl
def register_scanners(register):
    from .research.scan import StoreScanner

    register(StoreScanner())
