"""Research artifacts: every profile, feature evaluation, drift report and materialize run is
stored as ``<home>/research/artifacts/<id>.json`` with an id derived from its content, so the
same computation over the same data has the same id."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import msgspec

from ..errors import UsageError

TYPES = ("profile", "feature-eval", "drift", "materialize")


class Artifact(msgspec.Struct):
    id: str
    type: str
    created_at: str
    subject: str                  # e.g. "BTC-USDT@binance"
    params: dict
    body: dict | list


def _root(home: Path) -> Path:
    return home / "research" / "artifacts"


def save(home: Path, type_: str, subject: str, params: dict, body) -> Artifact:
    from ..home import atomic_write

    content = msgspec.json.encode({"type": type_, "subject": subject, "params": params, "body": body})
    aid = f"{type_[:4]}-{hashlib.sha256(content).hexdigest()[:12]}"
    art = Artifact(aid, type_, dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), subject, params,
                   msgspec.json.decode(msgspec.json.encode(body)))
    path = _root(home) / f"{aid}.json"
    if not path.exists():
        atomic_write(path, msgspec.json.format(msgspec.json.encode(art)) + b"\n", mode=0o644)
    return msgspec.json.decode(path.read_bytes(), type=Artifact)


def list_artifacts(home: Path, type_: str | None = None) -> list[Artifact]:
    if type_ is not None and type_ not in TYPES:
        raise UsageError(f"--type '{type_}' is not one of {', '.join(TYPES)}")
    out = []
    for path in sorted(_root(home).glob("*.json")):
        try:
            art = msgspec.json.decode(path.read_bytes(), type=Artifact)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        if type_ is None or art.type == type_:
            out.append(art)
    return sorted(out, key=lambda a: (a.created_at, a.id))


def get(home: Path, aid: str) -> Artifact:
    path = _root(home) / f"{aid}.json"
    if "/" in aid or not path.exists():
        raise UsageError(f"unknown research artifact '{aid}'; `sequence research artifacts` lists them")
    return msgspec.json.decode(path.read_bytes(), type=Artifact)
