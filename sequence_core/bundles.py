"""Bundles: compiled, signed, content-addressed artifacts (docs/bundles.md).

A bundle file is a msgpack envelope ``{manifest, signature, payload}``. The manifest is a
msgspec Struct encoded canonically (msgpack, fields in declaration order); it carries the
SHA-256 of the payload, so the bundle's id, the SHA-256 of the manifest bytes, names the
payload too. The manifest is signed with the user's Ed25519 key (``<home>/keys/bundle.key``,
created 0600 on first use). Loading verifies the id, the payload hash, the signature, and that
the signing key is the user's own or listed in ``<home>/keys/trusted_bundle_keys``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path

import msgspec

from .errors import ConfigError, UsageError

KINDS = ("edge", "sor", "assignment")


class Manifest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: str                       # edge | sor | assignment
    artifact: str                   # the user's name for what it is
    created_at: str                 # ISO 8601 UTC
    payload_sha256: str
    payload_size: int
    public_key: str                 # hex Ed25519 public key of the signer
    strategy: str = ""              # edge: strategy family
    risk_version: str = ""          # edge: risk limits version
    abi_version: int = 0            # edge: the wasm ABI the payload was built for
    refs: dict[str, str] = {}       # sor / assignment: what the payload was compiled from
    params: dict[str, int] = {}     # edge: strategy parameters, fixed point 1e9 (Sequence.toml [params])


# -- payloads of sor and assignment bundles (msgpack) ------------------------------------------

FIXED_POINT = 1_000_000_000         # assignment thresholds: USD notional × 1e9
INT64_MAX = 2**63 - 1
MAX_MIN_VENUES = 1000               # far above any venue count; what msgpack and the fan-out hold


class ImpactModel(msgspec.Struct, frozen=True):
    """A square-root impact model of one book: impact_bps = y · sigma_day_bps · sqrt(q / adv)."""
    symbol: str
    venue: str
    y: float
    y_stderr: float
    r2: float
    buckets: int
    sigma_day_bps: float
    adv: float                      # average daily volume, in the venue's size units
    start_ns: int                   # the window it was fitted on
    end_ns: int
    source: str                     # the research profile artifact it came from

    @classmethod
    def from_profile(cls, art) -> "ImpactModel":
        """The fitted model of a research profile artifact (its fit must exist)."""
        b, fit = art.body, art.body["impact"]
        return cls(b["symbol"], b["venue"], fit["y"], fit["y_stderr"], fit["r2"], fit["buckets"], fit["sigma_day_bps"],
                   fit["adv"], b["start_ns"], b["end_ns"], art.id)

    def impact_bps(self, qty: float) -> float:
        return self.y * self.sigma_day_bps * (qty / self.adv) ** 0.5 if self.adv > 0 and qty > 0 else 0.0


class SorModel(msgspec.Struct, frozen=True):
    routing_model: str              # a name in sequence_core.router.ROUTING_MODELS
    impact: tuple[ImpactModel, ...]
    slicing_policy: str             # the policy that works orders too large to take at once


class AssignmentPolicy(msgspec.Struct, frozen=True):
    """Which path an order takes, by its USD notional (fixed point, × 1e9): at or above
    ``edge_threshold`` through the edge (wasm) path, and a venue joins the SOR fan-out only if
    its share is at or above ``sor_threshold``; with fewer than ``min_venues`` venues left,
    no SOR (the order goes to the single best venue)."""
    edge_threshold: int
    sor_threshold: int
    min_venues: int
    scale: int = FIXED_POINT
    baseline_notionals: tuple[float, ...] = ()   # journaled order notionals (USD) when compiled

    def uses_edge(self, notional_usd: float) -> bool:
        return notional_usd * self.scale >= self.edge_threshold

    def fan_out(self, shares_usd: dict[str, float]) -> list[str]:
        """The venues kept in the SOR fan-out, or [] when fewer than min_venues remain."""
        kept = sorted(v for v, usd in shares_usd.items() if usd * self.scale >= self.sor_threshold)
        return kept if len(kept) >= self.min_venues else []


def payload_of(bundle: "Bundle"):
    """The decoded payload of a sor or assignment bundle."""
    kind = {"sor": SorModel, "assignment": AssignmentPolicy}[bundle.manifest.kind]
    return msgspec.msgpack.decode(bundle.payload, type=kind)


class Bundle(msgspec.Struct, frozen=True):
    id: str                         # sha256 of the canonical manifest bytes
    manifest: Manifest
    payload: bytes


class _Envelope(msgspec.Struct, frozen=True):
    manifest: bytes
    signature: bytes
    payload: bytes


def _dirs(home: Path) -> tuple[Path, Path]:
    return home / "bundles", home / "keys"


def _signing_key(home: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from .home import atomic_write, check_secret_file

    path = _dirs(home)[1] / "bundle.key"
    if path.exists():
        check_secret_file(path)
        try:
            return serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            raise ConfigError(f"{path} is not a PEM private key; move it away to create a new signing key") from None
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    atomic_write(path, pem)          # 0600
    return key


def _public_hex(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def trusted_keys(home: Path) -> set[str]:
    keys = {_public_hex(_signing_key(home).public_key())}
    extra = _dirs(home)[1] / "trusted_bundle_keys"
    if extra.exists():
        keys |= {line.split("#")[0].strip().lower() for line in extra.read_text().splitlines() if line.split("#")[0].strip()}
    return keys


def create(home: Path, kind: str, artifact: str, payload: bytes, **fields) -> Bundle:
    """Sign and store a bundle; the same content under the same key gives the same id."""
    from .home import atomic_write

    if kind not in KINDS:
        raise UsageError(f"bundle kind '{kind}' is not one of {', '.join(KINDS)}")
    if not artifact or len(artifact) > 128 or any(c.isspace() for c in artifact):
        raise UsageError(f"--artifact '{artifact}' must be 1-128 characters without spaces")
    key = _signing_key(home)
    manifest = Manifest(kind=kind, artifact=artifact, created_at=_created_at(home, kind, artifact, payload),
                        payload_sha256=hashlib.sha256(payload).hexdigest(), payload_size=len(payload),
                        public_key=_public_hex(key.public_key()), **fields)
    raw = msgspec.msgpack.encode(manifest)
    bundle_id = hashlib.sha256(raw).hexdigest()
    envelope = _Envelope(raw, key.sign(raw), payload)
    path = _dirs(home)[0] / f"{bundle_id}.bundle"
    if not path.exists():
        atomic_write(path, msgspec.msgpack.encode(envelope), mode=0o644)
    return Bundle(bundle_id, manifest, payload)


def compile_sor(home: Path, routing_model: str, impact_model: str, slicing_policy: str = "vwap",
                artifact: str | None = None) -> Bundle:
    """A sor bundle: the routing model by name, the impact models of the research profile
    artifacts named in *impact_model* (comma-separated), and the slicing policy."""
    from .plugins import policies
    from .research import artifacts
    from .router import ROUTING_MODELS

    if routing_model not in ROUTING_MODELS:
        raise UsageError(f"--routing-model '{routing_model}' is not a routing model; available: "
                         + ", ".join(f"{k} ({v})" for k, v in ROUTING_MODELS.items()))
    if slicing_policy not in policies():
        raise UsageError(f"--slicing-policy '{slicing_policy}' is not an installed policy; available: "
                         f"{', '.join(sorted(policies()))}")
    refs = [r.strip() for r in impact_model.split(",") if r.strip()]
    if not refs:
        raise UsageError("--impact-model needs a research profile artifact id (`sequence research profile <symbol>`)")
    models = []
    for ref in refs:
        art = artifacts.get(home, ref)
        if art.type != "profile":
            raise UsageError(f"--impact-model '{ref}' is a {art.type} artifact; impact models come from profiles "
                             "(`sequence research profile <symbol>`)")
        if art.body["impact"].get("y") is None:
            raise UsageError(f"profile {ref} of {art.subject} has no impact fit (under 20 one-second buckets of "
                             "trades); profile a longer window")
        models.append(ImpactModel.from_profile(art))
    books = [(m.symbol, m.venue) for m in models]
    if len(set(books)) != len(books):
        raise UsageError("--impact-model names two profiles of the same book; give one per book")
    payload = msgspec.msgpack.encode(SorModel(routing_model, tuple(sorted(models, key=lambda m: (m.symbol, m.venue))),
                                              slicing_policy))
    return create(home, "sor", artifact or f"sor-{routing_model}-{slicing_policy}", payload,
                  refs={"routing_model": routing_model, "impact_model": ",".join(refs),
                        "slicing_policy": slicing_policy})


def compile_assignment(home: Path, artifact: str, edge_threshold: int, sor_threshold: int, min_venues: int,
                       baseline_notionals=()) -> Bundle:
    for flag, v in (("--edge-threshold", edge_threshold), ("--sor-threshold", sor_threshold)):
        if v < 0:
            raise UsageError(f"{flag} {v} must be zero or more (USD notional × 1e9)")
        if v > INT64_MAX:                        # fixed point is int64 everywhere (DESIGN §4)
            raise UsageError(f"{flag} {v} is too large: at most {INT64_MAX} (USD {INT64_MAX // FIXED_POINT:,} × 1e9)")
    if not 1 <= min_venues <= MAX_MIN_VENUES:
        raise UsageError(f"--min-venues {min_venues} must be from 1 to {MAX_MIN_VENUES}")
    policy = AssignmentPolicy(edge_threshold, sor_threshold, min_venues,
                              baseline_notionals=tuple(round(float(x), 6) for x in baseline_notionals))
    return create(home, "assignment", artifact, msgspec.msgpack.encode(policy),
                  refs={"edge_threshold": str(edge_threshold), "sor_threshold": str(sor_threshold),
                        "min_venues": str(min_venues)})


def _created_at(home: Path, kind: str, artifact: str, payload: bytes) -> str:
    """Re-compiling identical content keeps the first creation time, so the id is stable."""
    digest = hashlib.sha256(payload).hexdigest()
    for path in sorted(_dirs(home)[0].glob("*.bundle")):
        try:
            m = msgspec.msgpack.decode(_decode(path).manifest, type=Manifest)
        except (ConfigError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        if m.kind == kind and m.artifact == artifact and m.payload_sha256 == digest:
            return m.created_at
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode(path: Path) -> _Envelope:
    try:
        return msgspec.msgpack.decode(path.read_bytes(), type=_Envelope)
    except (msgspec.DecodeError, msgspec.ValidationError, OSError) as exc:
        raise ConfigError(f"bundle file {path} is unreadable or not a bundle ({exc}); it was damaged") from None


def a_kind(kind: str) -> str:
    """"a sor", "an edge", "an assignment": the kind with its article."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def load(home: Path, ref: str) -> Bundle:
    """The bundle *ref* (its id or a unique prefix of 8+ characters), verified."""
    folder = _dirs(home)[0]
    ref = ref.strip().lower()
    if len(ref) < 8:
        raise UsageError(f"bundle prefix '{ref}' is too short: give at least 8 characters of the id "
                         "(`sequence bundle list` shows them)")
    matches = sorted(folder.glob(f"{ref}*.bundle")) if len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref) else []
    if not matches:
        raise UsageError(f"unknown bundle '{ref}'; `sequence bundle list` shows the bundles in {folder}")
    if len(matches) > 1:
        raise UsageError(f"bundle prefix '{ref}' matches {len(matches)} bundles; give more characters")
    return verify(home, matches[0])


def verify(home: Path, path: Path) -> Bundle:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    env = _decode(path)
    bundle_id = path.name.split(".")[0]
    if hashlib.sha256(env.manifest).hexdigest() != bundle_id:
        raise ConfigError(f"bundle {bundle_id[:12]} was tampered with: its manifest does not hash to its id; refusing it")
    try:
        manifest = msgspec.msgpack.decode(env.manifest, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"bundle {bundle_id[:12]} has an unreadable manifest ({exc})") from None
    if hashlib.sha256(env.payload).hexdigest() != manifest.payload_sha256 or len(env.payload) != manifest.payload_size:
        raise ConfigError(f"bundle {bundle_id[:12]} was tampered with: its payload does not match the SHA-256 in its "
                          "manifest; refusing it")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.public_key)).verify(env.signature, env.manifest)
    except (InvalidSignature, ValueError):
        raise ConfigError(f"bundle {bundle_id[:12]} has an invalid signature; refusing it") from None
    if manifest.public_key not in trusted_keys(home):
        raise ConfigError(f"bundle {bundle_id[:12]} is signed by key {manifest.public_key[:16]}…, which is not yours or "
                          f"in {_dirs(home)[1] / 'trusted_bundle_keys'}; refusing it")
    return Bundle(bundle_id, manifest, env.payload)


class BundleInfo(msgspec.Struct, frozen=True):
    id: str
    kind: str
    artifact: str
    created_at: str
    strategy: str
    payload_size: int
    stage: str | None = None        # set by promotion (not available yet)
    promoted_at: str | None = None
    approver: str | None = None
    problem: str | None = None      # why it would be refused (tampered, untrusted key)


def list_bundles(home: Path) -> list[BundleInfo]:
    """Every stored bundle, each verified; a bad one is listed with its problem."""
    out = []
    for path in sorted(_dirs(home)[0].glob("*.bundle")):
        problem = None
        try:
            m = verify(home, path).manifest
        except ConfigError as exc:
            problem = str(exc)
            try:
                m = msgspec.msgpack.decode(_decode(path).manifest, type=Manifest)
            except (ConfigError, msgspec.DecodeError, msgspec.ValidationError):
                out.append(BundleInfo(path.name.split(".")[0], "?", "?", "", "", 0, problem=problem))
                continue
        out.append(BundleInfo(path.name.split(".")[0], m.kind, m.artifact, m.created_at, m.strategy, m.payload_size,
                              problem=problem))
    records = audit(home) if _audit_path(home).exists() else []
    kinds = {b.id: b.kind for b in out}
    holders = stage_holders(records, kinds.get)
    on: dict[str, list[str]] = {}          # bundle -> its latest stage on each target, by target
    last: dict[str, Promotion] = {}
    for r in sorted(latest_per_target(records).values(), key=lambda r: (r.target, r.seq)):
        held = holders[(r.target, kinds.get(r.bundle), r.to_stage)] == r.bundle
        on.setdefault(r.bundle, []).append(f"{r.to_stage}@{r.target}" + ("" if held else " (replaced)"))
    for r in records:
        last[r.bundle] = r
    out = [msgspec.structs.replace(b, stage=", ".join(on[b.id]), promoted_at=last[b.id].at, approver=last[b.id].approver)
           if b.id in on else b for b in out]
    return sorted(out, key=lambda b: (b.created_at, b.id))


# -- promotion: stages in order, the drift gate, an append-only signed audit log -------------

STAGES = ("canary", "pilot", "production")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class Promotion(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: str
    bundle: str
    target: str
    from_stage: str | None
    to_stage: str
    eval_run: str
    approver: str
    break_glass: bool = False
    notes: str = ""
    prev: str                       # hash of the previous record ("" for the first)


class _AuditLine(msgspec.Struct, frozen=True):
    record: bytes                   # canonical msgpack of a Promotion
    signature: bytes
    public_key: str
    hash: str                       # sha256 of record


def _audit_path(home: Path) -> Path:
    return _dirs(home)[0] / "audit.log"


def audit(home: Path) -> list[Promotion]:
    """Every promotion, verified: each line's hash, signature and link to the one before."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    path = _audit_path(home)
    if not path.exists():
        return []
    out, prev = [], ""
    trusted = trusted_keys(home)
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            line = msgspec.json.decode(raw, type=_AuditLine)
            rec = msgspec.msgpack.decode(line.record, type=Promotion)
            if hashlib.sha256(line.record).hexdigest() != line.hash or rec.prev != prev or line.public_key not in trusted:
                raise ValueError("hash, chain or key")
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(line.public_key)).verify(line.signature, line.record)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, InvalidSignature):
            raise ConfigError(f"{path} line {n} does not verify (edited, reordered or removed lines); the audit "
                              "log is append-only: restore it from a backup") from None
        out.append(rec)
        prev = line.hash
    return out


def last_promotion(home: Path, bundle_id: str) -> Promotion | None:
    """The bundle's latest promotion on any target, or None if it was never promoted."""
    return next((r for r in reversed(audit(home)) if r.bundle == bundle_id), None)


def latest_per_target(records: list[Promotion]) -> dict[tuple[str, str], Promotion]:
    """(target, bundle) -> the bundle's latest promotion on the target."""
    return {(r.target, r.bundle): r for r in records}


def stage_holders(records: list[Promotion], kind_of) -> dict[tuple[str, str | None, str], str]:
    """(target, kind, stage) -> the bundle holding the stage: on a target, of the bundles of a
    kind whose latest promotion there is to the stage, the one promoted last (``kind_of``:
    bundle id -> its kind). The engine routes by these (:class:`Bundles`) and `bundle list`
    shows them."""
    return {(r.target, kind_of(r.bundle), r.to_stage): r.bundle
            for r in sorted(latest_per_target(records).values(), key=lambda r: r.seq)}


def stage_of(records: list[Promotion], bundle_id: str, target: str) -> Promotion | None:
    last = None
    for r in records:
        if r.bundle == bundle_id and r.target == target:
            last = r
    return last


def drift_gate(home: Path, bundle: Bundle, eval_run: str) -> str | None:
    """None when the bundle is within tolerance of its evaluation, else why not. The check is
    `research monitor` (sequence_core/research/monitor.py) over the last 7 days of the store,
    against *eval_run* for an edge bundle; its report is kept as a research artifact. Canary is
    where measurement starts, so only later stages are gated."""
    from .research.monitor import monitor, save_report

    report = monitor(home, bundle.id, bundle.manifest.kind, days=7,
                     baseline_eval=eval_run if bundle.manifest.kind == "edge" else None)
    art = save_report(home, report)
    if report.verdict == "within-tolerance":
        return None
    return f"{report.verdict} ({'; '.join(report.reasons) or 'no reason given'}; drift report {art.id})"


def check_approver(approver: str) -> None:
    if not _EMAIL.match(approver):
        raise UsageError(f"--approver '{approver}' is not an email address")


def check_eval_run(home: Path, bundle: Bundle, eval_run: str) -> None:
    """An edge bundle's evaluation is a saved backtest of its module; a sor or assignment
    bundle's is a drift report of it (`research monitor`)."""
    if bundle.manifest.kind != "edge":
        from .research import artifacts

        how = (f"{a_kind(bundle.manifest.kind)} bundle is evaluated by a drift report (`sequence research monitor "
               f"--bundle {bundle.id[:12]} --target-kind {bundle.manifest.kind}`)")
        if eval_run and "/" not in eval_run and (home / "backtests" / eval_run / "summary.json").exists():
            raise UsageError(f"eval run '{eval_run}' is a backtest, not a drift report: {how}")
        try:
            art = artifacts.get(home, eval_run)
        except UsageError:
            raise UsageError(f"eval run '{eval_run}' does not exist: {how}") from None
        if art.type != "drift" or art.body.get("bundle") != bundle.id:
            raise UsageError(f"eval run '{eval_run}' is not a drift report of bundle {bundle.id[:12]}")
        return
    summary_path = home / "backtests" / eval_run / "summary.json"
    if not eval_run or "/" in eval_run or not summary_path.exists():
        raise UsageError(f"eval run '{eval_run}' does not exist (runs are folders of {home / 'backtests'}; "
                         "`sequence backtest --bundle` makes one)")
    why = evaluation_mismatch(bundle, summary_path.parent)
    if why:
        raise UsageError(f"eval run '{eval_run}' did not evaluate bundle {bundle.id[:12]} ({why})")


def _fmt_params(params: dict[str, int]) -> str:
    return "{" + ", ".join(f"{k} = {v / FIXED_POINT:g}" for k, v in sorted(params.items())) + "}" if params else "none"


def evaluation_mismatch(bundle: Bundle, run_dir: Path) -> str | None:
    """None when the saved backtest *run_dir* ran exactly this edge bundle: its module and its
    params (the same wasm under other params is another strategy), else why not. A run saved
    without config.json does not record its params: it ran with none."""
    summary = msgspec.json.decode((run_dir / "summary.json").read_bytes())
    if summary.get("strategy_sha256") != bundle.manifest.payload_sha256:
        return "it ran another module"
    config = run_dir / "config.json"
    ran = (msgspec.json.decode(config.read_bytes()).get("params") or {}) if config.exists() else {}
    if ran != dict(bundle.manifest.params):
        return (f"it ran the module with params {_fmt_params(ran)}, the bundle carries "
                f"{_fmt_params(dict(bundle.manifest.params))}")
    return None


def promote(home: Path, ref: str, target: str, stage: str, eval_run: str, approver: str,
            break_glass: bool = False, notes: str = "") -> Promotion:
    from .home import locked

    if stage not in STAGES:
        raise UsageError(f"--stage '{stage}' is not one of {', '.join(STAGES)}")
    if not _TARGET.match(target):
        raise UsageError(f"--target '{target}' must be a name of letters, digits, '.', '_', ':' or '-'")
    check_approver(approver)
    if break_glass and not notes.strip():
        raise UsageError("--break-glass needs --notes saying why the drift gate is bypassed")
    bundle = load(home, ref)
    check_eval_run(home, bundle, eval_run)
    path = _audit_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        records = audit(home)
        current = stage_of(records, bundle.id, target)
        have = current.to_stage if current else None
        want_from = None if stage == STAGES[0] else STAGES[STAGES.index(stage) - 1]
        if have == stage:
            raise UsageError(f"bundle {bundle.id[:12]} is already at {stage} on '{target}'")
        if have != want_from:
            nxt = STAGES[0] if have is None else (STAGES[STAGES.index(have) + 1] if have != STAGES[-1] else None)
            raise UsageError(f"stages move forward in order (canary → pilot → production): bundle {bundle.id[:12]} is at "
                             f"{have or 'no stage'} on '{target}', so the next promotion is to "
                             f"{nxt or 'nothing (it is in production)'}, not {stage}")
        if stage != STAGES[0] and not break_glass:
            reason = drift_gate(home, bundle, eval_run)
            if reason:
                raise UsageError(f"drift gate: {reason}; promotion refused (--break-glass --notes \"...\" bypasses it)")
        key = _signing_key(home)
        prev = ""
        if path.exists() and path.stat().st_size:
            prev = msgspec.json.decode(path.read_bytes().splitlines()[-1], type=_AuditLine).hash
        rec = Promotion(seq=len(records) + 1, at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        bundle=bundle.id, target=target, from_stage=have, to_stage=stage, eval_run=eval_run,
                        approver=approver, break_glass=break_glass, notes=notes, prev=prev)
        raw = msgspec.msgpack.encode(rec)
        line = _AuditLine(raw, key.sign(raw), _public_hex(key.public_key()), hashlib.sha256(raw).hexdigest())
        with open(path, "ab") as fh:          # append-only; fsync so a crash never loses it
            fh.write(msgspec.json.encode(line) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
    return rec


# -- which sor / assignment bundle routes an order ---------------------------------------------

STAGE_SHARE_PCT = {"canary": 5, "pilot": 25}   # of orders; production takes the rest


class Routing(msgspec.Struct, frozen=True):
    """The bundles chosen for one order, and the stage each was chosen at."""
    sor: SorModel | None = None
    sor_bundle: str | None = None
    sor_stage: str | None = None
    assignment: AssignmentPolicy | None = None
    assignment_bundle: str | None = None
    assignment_stage: str | None = None


class ActiveBundles:
    """The sor and assignment bundles promoted on a target (the engine's mode: ``sandbox`` or
    ``live``). Per order, chosen by stage: a canary bundle takes 5% of orders, a pilot 25%
    and the production bundle the rest, by a hash of the graph id, so the choice is stable
    across restarts. Re-read when the audit log changes (looked at within 0.1 s: a
    promotion is a command of its own; home.FileWatch)."""

    def __init__(self, home: Path, target: str):
        from .home import FileWatch

        self.home, self.target = home, target
        self._audit = FileWatch(_audit_path(home))
        self._by_kind: dict[str, dict[str, Bundle]] = {}

    def _refresh(self) -> None:
        if not self._audit.changed():
            return
        by_kind: dict[str, dict[str, Bundle]] = {"sor": {}, "assignment": {}}
        loaded: dict[str, Bundle] = {}

        def kind_of(bundle_id: str) -> str:
            if bundle_id not in loaded:
                loaded[bundle_id] = load(self.home, bundle_id)
            return loaded[bundle_id].manifest.kind

        records = [r for r in (audit(self.home) if self._audit.stamp else []) if r.target == self.target]
        for (_, kind, stage), bundle_id in stage_holders(records, kind_of).items():
            if kind in by_kind:
                by_kind[kind][stage] = loaded[bundle_id]     # the newest promotion per stage wins
        self._by_kind = by_kind

    def _pick(self, kind: str, graph_id: str) -> tuple[Bundle | None, str | None]:
        stages = self._by_kind.get(kind, {})
        if not stages:
            return None, None
        bucket = int(hashlib.sha256(graph_id.encode()).hexdigest()[:8], 16) % 100
        floor = 0
        for stage in ("canary", "pilot"):
            share = STAGE_SHARE_PCT[stage]
            if stage in stages and floor <= bucket < floor + share:
                return stages[stage], stage
            floor += share
        return (stages["production"], "production") if "production" in stages else (None, None)

    def for_order(self, graph_id: str) -> Routing:
        self._refresh()
        sor, sor_stage = self._pick("sor", graph_id)
        asg, asg_stage = self._pick("assignment", graph_id)
        return Routing(payload_of(sor) if sor else None, sor.id if sor else None, sor_stage,
                       payload_of(asg) if asg else None, asg.id if asg else None, asg_stage)
