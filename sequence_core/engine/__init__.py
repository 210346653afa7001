"""The engine: one long-running local service owning venue sessions, order graphs and
their policies, and the lifecycle event stream. ``python -m sequence_core.engine serve``."""


def promote_startup_objects() -> None:
    """Once a long-running process (the engine, an edge) is set up: one full collection, so
    every object that start-up left alive sits in the oldest generation. Until then the next
    middle-generation collection walked them all: measured ~2 ms in an edge (inside a
    strategy callback when it struck) and ~1.3-1.8 ms in the engine; afterwards, the few
    collections of a 20 s trading run took < 0.4 ms each. (``gc.freeze()`` instead made a
    later young collection take ~10 ms.)

    Then the youngest generation is collected after 10,000 net allocations instead of 700:
    handling a burst of orders keeps a few thousand objects alive at once, so at 700 the
    engine ran ~200 young collections a second that found almost nothing (~3% of its CPU
    at full load); at 10,000 a few a minute (engine throughput +2-3%, 7 of 8 A/B pairs)."""
    import gc

    gc.collect()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
