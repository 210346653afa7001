"""Deployments: strategy modules running live (or in sandbox) in edge processes under the
engine's supervision (docs/deployments.md)."""
