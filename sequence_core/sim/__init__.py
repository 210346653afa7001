"""The sim-engine: event replay, order matching, models, and the WebAssembly strategy host."""
