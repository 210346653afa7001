"""The engine: one long-running local service owning venue sessions, order graphs and
their policies, and the lifecycle event stream. ``python -m sequence_core.engine serve``."""
