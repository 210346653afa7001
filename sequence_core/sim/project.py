"""Strategy projects: ``sequence init`` (scaffold), ``Sequence.toml`` (read with the line of
every mistake), ``sequence build`` (a Rust toolchain with the wasm32 target, found or named)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import msgspec

from ..errors import ConfigError, UsageError

TEMPLATE = Path(__file__).parent / "template"
TARGET = "wasm32-unknown-unknown"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
INSTALL_HINT = ("install one: `rustup target add wasm32-unknown-unknown` (rustup), or on Debian/Ubuntu "
                "`apt-get install rustc cargo libstd-rust-dev-wasm32`; `scripts/install-wasm-toolchain.sh` "
                "does either")


class StrategySection(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    symbols: list[str]
    venues: list[str] = []
    description: str = ""


class RiskSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    max_position: float | None = None
    max_notional: float | None = None
    max_order_rate: float | None = None      # orders per second
    kill_switch: bool = False
    capital: float | None = None


class EdgeSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One ``[[edges]]`` entry: an instance of the deployed strategy near these venues."""
    label: str
    venues: list[str]


class MeshSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    transport: str = "udp"          # a name registered with register_mesh_transports


class ProjectFile(msgspec.Struct, forbid_unknown_fields=True):
    strategy: StrategySection
    params: dict[str, int | float] = {}
    risk: RiskSection = RiskSection()
    backtest: dict[str, str | int | float | bool] = {}
    edges: list[EdgeSection] = []
    mesh: MeshSection = MeshSection()


class Project(msgspec.Struct):
    root: str
    config: ProjectFile

    @property
    def name(self) -> str:
        return self.config.strategy.name

    def crate_name(self) -> str:
        return _crate_name(self.root)

    def wasm_path(self) -> Path:
        return Path(self.root) / "target" / TARGET / "release" / f"{self.crate_name().replace('-', '_')}.wasm"

    def fixed_params(self) -> dict[str, int]:
        """[params] as fixed point 1e9 (what the strategy's param() import returns)."""
        out = {}
        for key, value in self.config.params.items():
            out[key] = int(Decimal(str(value)) * 1_000_000_000)
        return out


def project_module(root: Path, skip_build: bool) -> Path:
    """The project's module: built now, or with *skip_build* the one already built."""
    if skip_build:
        wasm = load_project(root).wasm_path()
        if not wasm.exists():
            raise UsageError(f"--skip-build: no module at {wasm}; run `sequence build` first")
        return wasm
    return build_project(root)


def _crate_name(root) -> str:
    text = (Path(root) / "Cargo.toml").read_text()
    m = re.search(r'^\s*name\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise ConfigError(f"{Path(root) / 'Cargo.toml'} has no package name")
    return m.group(1)


def init_project(name: str, parent: Path) -> Path:
    if not NAME_RE.match(name):
        raise UsageError(f"project name '{name}' must start with a letter and use only letters, digits, '-' or '_' "
                         "(at most 64 characters)")
    root = Path(parent) / name
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} already exists and is not empty")
    crate = name.lower().replace("_", "-")
    root.mkdir(parents=True, exist_ok=True)
    (root / "src").mkdir(exist_ok=True)
    shutil.copytree(TEMPLATE / "vendor", root / "vendor", dirs_exist_ok=True)
    (root / "src" / "lib.rs").write_text((TEMPLATE / "src" / "lib.rs").read_text())
    (root / "Cargo.toml").write_text((TEMPLATE / "Cargo.toml.tmpl").read_text().replace("{crate}", crate))
    (root / "Sequence.toml").write_text((TEMPLATE / "Sequence.toml.tmpl").read_text().replace("{name}", name))
    (root / ".gitignore").write_text((TEMPLATE / "gitignore").read_text())
    return root


def find_project(start: Path | None = None) -> Path:
    here = Path(start or os.getcwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "Sequence.toml").exists():
            return d
    raise UsageError(f"no Sequence.toml in {here} or above; create a project with `sequence init <name>`")


def _line_of(text: str, key: str, section: str | None) -> int | None:
    current = None
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        m = re.match(r"^\[([^\]]+)\]", s)
        if m:
            current = m.group(1).strip()
            continue
        if re.match(rf"^{re.escape(key)}\s*=", s) and (section is None or current == section):
            return n
        if section is None and current is None and s.startswith(f"[{key}]"):
            return n
    if section is None:
        for n, line in enumerate(text.splitlines(), start=1):
            if line.split("#")[0].strip() == f"[{key}]":      # a header may carry a comment
                return n
    return None


def load_project(root: Path) -> Project:
    import tomllib

    path = Path(root) / "Sequence.toml"
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    sections = {"strategy", "params", "risk", "backtest", "edges", "mesh"}
    for key in raw:
        if key not in sections:
            line = _line_of(text, key, None)
            raise ConfigError(f"{path}" + (f" line {line}" if line else "") +
                              f": unknown section [{key}]; expected {', '.join(sorted(sections))}")
    if "strategy" not in raw:
        raise ConfigError(f"{path}: the [strategy] section (name, symbols) is missing")
    for section, struct in (("strategy", StrategySection), ("risk", RiskSection), ("mesh", MeshSection)):
        fields = set(struct.__struct_fields__)
        for key in raw.get(section, {}):
            if key not in fields:
                line = _line_of(text, key, section)
                raise ConfigError(f"{path}" + (f" line {line}" if line else "") +
                                  f": unknown field '{key}' in [{section}]; expected {', '.join(sorted(fields))}")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: [params] must be a table of numbers")
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            line = _line_of(text, key, "params")
            raise ConfigError(f"{path}" + (f" line {line}" if line else "") +
                              f": parameter '{key}' must be a number, not {value!r}")
    try:
        config = msgspec.convert(raw, ProjectFile)
    except msgspec.ValidationError as exc:
        m = re.search(r"at `\$\.(\w+)\.(\w+)", str(exc))
        line = _line_of(text, m.group(2), m.group(1)) if m else None
        raise ConfigError(f"{path}" + (f" line {line}" if line else "") + f": {exc}") from None
    if not NAME_RE.match(config.strategy.name):
        raise ConfigError(f"{path} line {_line_of(text, 'name', 'strategy')}: strategy name '{config.strategy.name}' "
                          "must start with a letter and use only letters, digits, '-' or '_'")
    if not config.strategy.symbols:
        raise ConfigError(f"{path} line {_line_of(text, 'symbols', 'strategy')}: symbols is empty")
    return Project(str(Path(root).resolve()), config)


# -- building -----------------------------------------------------------------------------------

class Toolchain(msgspec.Struct):
    rustc: str
    cargo: str
    version: str


def _has_wasm_target(rustc: str) -> bool:
    try:
        sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(sysroot) and (Path(sysroot) / "lib" / "rustlib" / TARGET / "lib").is_dir()


def find_toolchain() -> Toolchain:
    """A rustc (with its cargo) that has the wasm32 target: PATH first, then Debian's."""
    candidates = []
    for rustc in (shutil.which("rustc"), "/usr/bin/rustc", "/usr/local/bin/rustc"):
        if rustc and rustc not in candidates and os.path.exists(rustc):
            candidates.append(rustc)
    for rustc in candidates:
        if not _has_wasm_target(rustc):
            continue
        cargo = str(Path(rustc).with_name("cargo"))
        if not os.path.exists(cargo):
            cargo = shutil.which("cargo") or ""
        if not cargo:
            continue
        version = subprocess.run([rustc, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        return Toolchain(rustc, cargo, version)
    if not candidates:
        raise UsageError(f"no Rust compiler found; `sequence build` needs rustc >= 1.63 with the {TARGET} target; "
                         + INSTALL_HINT)
    raise UsageError(f"no Rust toolchain with the {TARGET} target (found {', '.join(candidates)} without it); "
                     + INSTALL_HINT)


def build_project(root: Path) -> Path:
    """cargo build --release for wasm32 (stripped by the release profile); the .wasm path."""
    project = load_project(root)
    tc = find_toolchain()
    env = dict(os.environ, RUSTC=tc.rustc, CARGO_TERM_COLOR="never")
    env.pop("RUSTUP_TOOLCHAIN", None)
    proc = subprocess.run([tc.cargo, "build", "--release", "--target", TARGET, "--offline", "--quiet"],
                          cwd=project.root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        shown = "\n".join(lines[:40])
        raise UsageError(f"build failed ({tc.version}):\n{shown}")
    out = project.wasm_path()
    if not out.exists():
        raise UsageError(f"cargo finished but {out} is missing; is the crate type cdylib?")
    return out
