"""Extension plugins: the ``scanner_core.plugins`` entry points, each loaded on its own.

Extensions observe a session or add to it (indicators, commands) through the hooks in
scanner_core.hookspecs; they never take part in a scan. Built-in plugins register the same
way. ``SCANNER_LOAD_PLUGINS=a,b`` loads only the plugins named, an empty value none.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs
import pluggy
from attrs import frozen

from scanner_core import hookspecs, shutdown

#: The entry-point group an extension distribution announces itself in.
EXTENSION_GROUP = "scanner_core.plugins"

#: A comma-separated allow-list of plugin names (scanners and extensions) to load.
LOAD_ENV = "SCANNER_LOAD_PLUGINS"

#: Modules registered in every plugin manager, whatever SCANNER_LOAD_PLUGINS says.
BUILTIN_PLUGINS = ("scanner_core.default_plugins.indicators",)

#: Scanner methods, called directly: as an extension hookimpl each is a mistake.
LIFECYCLE_METHODS = ("setup", "session_start", "scan", "teardown")

#: Called with the plugin's name, the hook and what it raised.
OnError = Callable[[str, str, BaseException], None]


def load_filter() -> frozenset[str] | None:
    """The names SCANNER_LOAD_PLUGINS allows, or None when it is unset (load everything)."""
    raw = os.environ.get(LOAD_ENV)
    if raw is None:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def allowed(name: str, distribution: str | None = None) -> bool:
    """Whether SCANNER_LOAD_PLUGINS lets the plugin ``name`` (of ``distribution``) load."""
    names = load_filter()
    return names is None or name in names or (distribution is not None and distribution in names)


@frozen
class ExtensionInfo:
    """What loading one extension plugin gave: the hooks it implements, or why it failed."""

    name: str
    distribution: str | None
    version: str | None
    status: Literal["ok", "failed"]
    reason: str | None = None
    value: str | None = None
    hooks: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the plugin imported and registered."""
        return self.status == "ok"

    def describe(self) -> str:
        """One line naming the plugin, its distribution and, on failure, the reason."""
        owner = " ".join(filter(None, (self.distribution, self.version)))
        where = f" ({owner})" if owner else ""
        return f"{self.name}{where}: {self.reason or 'ok'}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON-friendly fields listed by ``scanner plugins --json``."""
        return {
            "name": self.name,
            "kind": "extension",
            "version": self.version,
            "distribution": self.distribution,
            "status": self.status,
            "reason": self.reason,
            "value": self.value,
            "hooks": list(self.hooks),
        }


def register_builtins(pm: pluggy.PluginManager) -> None:
    """Register the built-in plugin modules once."""
    for module in BUILTIN_PLUGINS:
        if not pm.has_plugin(module):
            pm.register(importlib.import_module(module), name=module)


def load_extensions(
    pm: pluggy.PluginManager, records: Iterable[Any] | None = None
) -> list[ExtensionInfo]:
    """Register the built-ins and each allowed installed extension, one at a time.

    A plugin that fails to import or register is returned with status "failed" (any
    BaseException but a real Ctrl-C); the others still load.
    """
    from scanner_core.plugins import discover

    register_builtins(pm)
    found = discover(EXTENSION_GROUP) if records is None else list(records)
    return [_load_one(pm, r) for r in found if allowed(r.name, r.distribution)]


def _load_one(pm: pluggy.PluginManager, record: Any) -> ExtensionInfo:
    info = ExtensionInfo(record.name, record.distribution, record.version, "ok", None, record.value)
    plugin = pm.get_plugin(record.name)
    if plugin is None:
        try:
            plugin = _import(record.value)
            pm.register(plugin, name=record.name)
        # SystemExit too: a plugin exiting at import must not end the listing or the session.
        except BaseException as exc:
            if not shutdown.is_plugin_failure(exc):
                raise
            return attrs.evolve(info, status="failed", reason=f"{type(exc).__name__}: {exc}")
    return attrs.evolve(info, hooks=hooks_of(pm, plugin))


def _import(value: str) -> object:
    module_name, _, attr_path = value.partition(":")
    obj: object = importlib.import_module(module_name)
    for attr in filter(None, attr_path.split(".")):
        obj = getattr(obj, attr)
    # A class of hook implementations is registered as one instance of it.
    return obj() if isinstance(obj, type) else obj


def hooks_of(pm: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    """The hook names a registered plugin implements, known or not, sorted."""
    return tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))


def unknown_hooks(pm: pluggy.PluginManager) -> list[str]:
    """One line per hookimpl that matches no hookspec: a misspelling that would never run."""
    known = spec_names()
    problems = []
    for name, caller in sorted(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            plugin = pm.get_name(impl.plugin) or type(impl.plugin).__name__
            problems.append(
                f"{plugin}: hook implementation {name!r} matches no hook{_hint(name, known)}"
            )
    return problems


def _hint(name: str, known: list[str]) -> str:
    if name in LIFECYCLE_METHODS:
        return (
            f" ({name} is a scanner method: subclass BaseScanner and enable it under"
            " [[scanners]]; an extension only observes)"
        )
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (hooks: {', '.join(known)})"


def spec_names() -> list[str]:
    """Every hook an extension can implement, sorted."""
    return sorted(n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "scanner_core_spec"))


def call_each(
    pm: pluggy.PluginManager,
    hook: str,
    on_error: OnError,
    fresh: Callable[[], dict[str, Any]] | None = None,
    **kwargs: Any,
) -> None:
    """Call each plugin's implementation of ``hook`` on its own; one that raises is reported.

    With ``fresh``, each plugin gets its own arguments from it, so none sees another's
    changes to them.
    """
    impls = getattr(pm.hook, hook).get_hookimpls()
    plugins = list(dict.fromkeys(impl.plugin for impl in impls))
    # pluggy calls the last registered first; so do we.
    for plugin in reversed(plugins):
        others = [p for p in plugins if p is not plugin]
        try:
            pm.subset_hook_caller(hook, remove_plugins=others)(**(fresh() if fresh else kwargs))
        except BaseException as exc:  # a plugin's bug must not stop the others
            if not shutdown.is_plugin_failure(exc):
                raise
            on_error(pm.get_name(plugin) or type(plugin).__name__, hook, exc)


def register_indicators(pm: pluggy.PluginManager, on_error: OnError) -> None:
    """Let each plugin add its indicator kernels by name."""
    from scanner_core.indicators import register_kernel

    call_each(pm, "register_indicators", on_error, register=register_kernel)


def register_commands(pm: pluggy.PluginManager, cli: Any, on_error: OnError) -> None:
    """Let each plugin add its subcommands to ``cli``."""
    call_each(pm, "register_commands", on_error, cli=cli)


def check_extensions() -> list[str]:
    """Problems with the installed extension plugins: load failures and unknown hooks."""
    from scanner_core.plugins import ScannerPluginManager

    pm = ScannerPluginManager()
    failed = [f"plugin {info.describe()}" for info in load_extensions(pm) if not info.ok]
    return failed + [f"plugin {line}" for line in unknown_hooks(pm)]
