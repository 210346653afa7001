"""The one plugin manager: loads entry points of group ``sequence`` and builds registries.

Built-in venues, policies and models are loaded exactly like a third party's. A plugin
that fails to import, or whose hook raises, is recorded in :attr:`Plugins.failures` and
skipped: it never takes the CLI down. ``SEQUENCE_LOAD_PLUGINS`` (comma list of entry
point names; empty for none) restricts which plugins load, for tests and for working
around a broken plugin.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import msgspec
import pluggy

from . import hookspecs
from .errors import PluginError

GROUP = "sequence"


class PluginInfo(msgspec.Struct, frozen=True):
    name: str
    distribution: str
    version: str
    hooks: list[str]


class PluginFailure(msgspec.Struct, frozen=True):
    name: str
    distribution: str
    version: str
    error: str


class EntryPoint(msgspec.Struct, frozen=True):
    name: str
    value: str            # "module" or "module:attr"
    distribution: str
    version: str

    def load(self):
        import importlib

        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def discover() -> list[EntryPoint]:
    """Entry points of group ``sequence``, cached between runs.

    Scanning every installed distribution's metadata costs ~25 ms of each CLI start, so the
    result is cached in ``<home>/cache/entry_points.json`` keyed on the modification times
    of the folders on ``sys.path``: installing or removing any distribution changes them.
    """
    import sys

    from .home import atomic_write, home_path

    key = []
    for entry in sys.path:
        if not entry:       # the current folder: changes all the time and holds no installs
            continue
        try:
            key.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            continue
    cache = home_path() / "cache" / "entry_points.json"
    try:
        data = msgspec.json.decode(cache.read_bytes())
        if data["key"] == key:
            return msgspec.convert(data["entry_points"], list[EntryPoint])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, KeyError, TypeError):
        pass
    from importlib_metadata import entry_points

    found = [EntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else "?", ep.dist.version if ep.dist else "?")
             for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name)]
    try:
        if home_path().is_dir():
            atomic_write(cache, msgspec.json.encode({"key": key, "entry_points": found}))
    except OSError:
        pass   # a cache we cannot write only costs speed
    return found


class Plugins:
    """Loaded plugins plus the registries their hooks filled."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("sequence")
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self._dist: dict[str, tuple[str, str]] = {}
        self._registries: dict[str, dict[str, Any]] = {}
        self.entry_points: set[EntryPoint] = set()     # those load_entry_points saw (loaded or failed)

    # -- loading -----------------------------------------------------------------
    def load_entry_points(self) -> None:
        from . import builtin

        self.register(builtin, "core", "sequence-markets", _core_version())

        seen: set[str] = set()
        for ep in _allowed(discover()):
            self.entry_points.add(ep)
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist, version = ep.distribution, ep.version
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not crash us
                self.failures.append(PluginFailure(ep.name, dist, version, _describe(exc)))
                continue
            self._dist[ep.name] = (dist, version)

    def register(self, plugin: object, name: str, distribution: str = "(in-process)", version: str = "") -> None:
        """Register a plugin object directly (tests, embedding)."""
        self.pm.register(plugin, name=name)
        self._dist[name] = (distribution, version)
        self._registries.clear()

    # -- introspection -----------------------------------------------------------
    def infos(self) -> list[PluginInfo]:
        out = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda p: p[0]):
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            dist, version = self._dist.get(name, ("?", "?"))
            out.append(PluginInfo(name, dist, version, hooks))
        return out

    # -- registries --------------------------------------------------------------
    def registry(self, hook_name: str) -> dict[str, Any]:
        """Call a ``register_*`` hook on every plugin; return the registered objects by name.

        Each implementation is called on its own so one failing plugin is reported and
        the others still register. On a name clash the core's object wins, then the one of the
        plugin named for it (the twap plugin's twap: a plugin whose name sorts first could
        otherwise take over a bundled policy or venue by its name), then the first by plugin
        name; each other registration is reported as a failure of its plugin.
        """
        if hook_name in self._registries:
            return self._registries[hook_name]
        claims: dict[str, list[tuple[tuple[int, int], str, Any]]] = {}
        caller = getattr(self.pm.hook, hook_name)
        for order, impl in enumerate(caller.get_hookimpls()):  # registration order: the core's, then entry points by name
            plugin_name = impl.plugin_name
            items: list[Any] = []
            try:
                impl.function(**{arg: items.append for arg in impl.argnames})
            except Exception as exc:  # noqa: BLE001
                self._fail(plugin_name, f"{hook_name}: {_describe(exc)}")
                continue
            for item in items:
                key = getattr(item, "name", None)
                if not isinstance(key, str) or not key:
                    self._fail(plugin_name, f"{hook_name}: registered an object without a name")
                    continue
                rank = 0 if plugin_name == "core" else 1 if plugin_name == key else 2
                claims.setdefault(key, []).append(((rank, order), plugin_name, item))
        found: dict[str, Any] = {}
        for key, options in claims.items():
            options.sort(key=lambda c: c[0])
            (_, owner, found[key]), *others = options
            for _, plugin_name, _ in others:
                self._fail(plugin_name, f"{hook_name}: '{key}' already registered by plugin {owner}")
        self._registries[hook_name] = found
        return found

    def _fail(self, plugin_name: str, why: str) -> None:
        dist, version = self._dist.get(plugin_name, ("?", "?"))
        self.failures.append(PluginFailure(plugin_name, dist, version, why))

    def registry_hooks(self) -> list[str]:
        """Every hook that builds a registry (its spec takes a ``register`` callback)."""
        callers = [getattr(self.pm.hook, name) for name in dir(self.pm.hook) if not name.startswith("_")]
        return sorted(c.name for c in callers if c.spec is not None and "register" in c.spec.argnames)

    def fill_registries(self) -> None:
        """Call every registry hook, so each hook failure and name clash is in :attr:`failures`."""
        for hook_name in self.registry_hooks():
            self.registry(hook_name)

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call a non-registry hook (e.g. register_commands) on each plugin in isolation."""
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, f"{hook_name}: {_describe(exc)}")


def _allowed(found: list[EntryPoint]) -> list[EntryPoint]:
    """The entry points ``SEQUENCE_LOAD_PLUGINS`` lets load (all when it is unset)."""
    wanted = os.environ.get("SEQUENCE_LOAD_PLUGINS")
    if wanted is None:
        return found
    allow = {n.strip() for n in wanted.split(",") if n.strip()}
    return [ep for ep in found if ep.name in allow]


def installed_since_loaded() -> list[EntryPoint]:
    """Plugins installed or upgraded after this process loaded its plugins (a long-running
    engine keeps the set it started with): their hooks have not run here."""
    return [ep for ep in _allowed(discover()) if ep not in get_plugins().entry_points]


def restart_hint() -> str:
    """For an engine's unknown-name error: '' or why the name may be missing and what to do."""
    new = installed_since_loaded()
    if not new:
        return ""
    names = ", ".join(f"{ep.name} ({ep.distribution} {ep.version})" for ep in new)
    return (f"; the running engine started before these plugins were installed: {names}. "
            "Run `sequence engine stop`; the next command starts an engine that loads them")


def _core_version() -> str:
    from . import __version__

    return __version__


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


_PLUGINS: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin set, loaded on first use."""
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = Plugins()
        _PLUGINS.load_entry_points()
    return _PLUGINS


def reset_plugins(plugins: Plugins | None = None) -> None:
    """Forget the loaded plugins (tests), or install a prepared set."""
    global _PLUGINS
    _PLUGINS = plugins


def policies() -> dict:
    """Registered execution policies by name (``sor`` is the core's own)."""
    return get_plugins().registry("register_policies")


def venues() -> dict:
    """Registered venues by name."""
    return get_plugins().registry("register_venues")


def get_venue(name: str):
    """One venue by name, or a UsageError listing the supported ones."""
    registered = venues()
    if name not in registered:
        supported = ", ".join(sorted(v for v, obj in registered.items() if not obj.sandbox_only)) or "none installed"
        raise PluginError(f"unknown venue '{name}'; supported venues: {supported}")
    return registered[name]


Register = Callable[[Any], None]
