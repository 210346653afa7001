"""`sequence update`: upgrade sequence-markets and every sequence-* plugin with pip.

pip does the work (its own index configuration applies: PIP_INDEX_URL, pip.conf, ...).
A dry run asks pip for its install report without installing; applying installs the
exact versions the plan showed. Distributions installed from a local checkout (editable
or a folder) are skipped: they are updated with git, not pip. Nothing under the Sequence
home is touched, so config and credentials survive.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import msgspec

from .errors import NetworkError, SequenceError

CORE_DIST = "sequence-markets"
_UNREACHABLE = re.compile(r"NewConnectionError|Failed to establish|Could not fetch URL|Max retries exceeded|"
                          r"Temporary failure in name resolution|Name or service not known|Connection refused|"
                          r"ProxyError|timed out|Network is unreachable", re.I)
_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")


class Upgrade(msgspec.Struct, frozen=True):
    name: str
    installed: str
    available: str


class Skipped(msgspec.Struct, frozen=True):
    name: str
    installed: str
    reason: str


class UpdatePlan(msgspec.Struct, frozen=True):
    upgrades: list[Upgrade]
    skipped: list[Skipped]
    applied: bool
    checked: list[str] = []     # the distributions compared with the package index


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> list[tuple[str, str, str | None]]:
    """(name, version, local path or None) of sequence-markets and sequence-* dists."""
    from importlib_metadata import distributions

    seen: dict[str, tuple[str, str, str | None]] = {}
    for dist in distributions():
        name = _normal(dist.metadata["Name"] or "")
        if name != CORE_DIST and not name.startswith("sequence-"):
            continue
        local = None
        raw = dist.read_text("direct_url.json")
        if raw:
            info = json.loads(raw)
            if "dir_info" in info:
                local = info.get("url", "").removeprefix("file://")
        seen.setdefault(name, (name, dist.version, local))
    return sorted(seen.values())


def _pip(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--retries", "1", "--timeout", "15",
                           "--disable-pip-version-check"], capture_output=True, text=True)


def run_update(apply: bool) -> UpdatePlan:
    upgrades: list[Upgrade] = []
    skipped: list[Skipped] = []
    candidates: dict[str, str] = {}
    for name, version, local in installed_distributions():
        if local:
            skipped.append(Skipped(name, version, f"installed from a local checkout ({local}); update it with git"))
        else:
            candidates[name] = version
    while candidates:
        proc = _pip(["install", "--upgrade", "--dry-run", "--quiet", "--report", "-", *sorted(candidates)])
        # pip keeps the installed version (exit 0) when it cannot reach the index: check first.
        if _UNREACHABLE.search(proc.stderr):
            raise NetworkError("no package index reachable; check your network or pip's index settings (PIP_INDEX_URL) and try again")
        if proc.returncode == 0:
            report = json.loads(proc.stdout or "{}")
            for item in report.get("install", []):
                name, new = _normal(item["metadata"]["name"]), item["metadata"]["version"]
                if name in candidates and new != candidates[name]:
                    upgrades.append(Upgrade(name, candidates[name], new))
            break
        missing = _NOT_FOUND.search(proc.stderr)
        if missing and _normal(missing.group(1)) in candidates:
            name = _normal(missing.group(1))
            skipped.append(Skipped(name, candidates.pop(name), "not published on the configured package index"))
            continue
        raise SequenceError("pip could not plan the update: " + (proc.stderr.strip().splitlines() or ["no output"])[-1])
    if apply and upgrades:
        proc = _pip(["install", "--quiet", *[f"{u.name}=={u.available}" for u in upgrades]])
        if proc.returncode != 0:
            if _UNREACHABLE.search(proc.stderr):
                raise NetworkError("no package index reachable; nothing was changed")
            raise SequenceError("pip failed to install the upgrade: " + (proc.stderr.strip().splitlines() or ["no output"])[-1])
    return UpdatePlan(sorted(upgrades, key=lambda u: u.name), skipped, apply and bool(upgrades), sorted(candidates))
