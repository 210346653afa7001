"""The research engine over the recorded store (issue: research subcommands)."""
