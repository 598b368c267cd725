"""Scanner plugins: entry-point discovery, loading one plugin at a time, and the PluginManager."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as metadata
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs
import pluggy
from attrs import frozen

from scanner_core import hookspecs
from scanner_core.config_errors import ConfigError
from scanner_core.extensions import allowed, register_builtins

if TYPE_CHECKING:
    from scanner_core.config import ScannerConfig
    from scanner_core.scanner import BaseScanner

#: The entry-point group a scanner distribution announces itself in.
ENTRY_POINT_GROUP = "scanner_core.scanners"

#: Setting this environment variable to 1 turns every plugin failure into an exception.
STRICT_ENV = "SCANNER_STRICT_PLUGINS"

#: The methods the manager calls on a scanner object, in the order it calls them.
LIFECYCLE_HOOKS = ("setup", "session_start", "scan", "teardown")


class PluginError(Exception):
    """A scanner plugin could not be used; the message names the plugin and its distribution."""


class ScannerPluginManager(pluggy.PluginManager):
    """The session's PluginManager: extension hooks only, the built-in plugins registered.

    Scanners are called directly; one registered here (for its ``@hookimpl`` observer
    methods) never has its lifecycle methods taken as hookimpls, decorated or not.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        register_builtins(self)

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        """Decorated functions as usual, but never a scanner's lifecycle method."""
        if name in LIFECYCLE_HOOKS and _is_scanner(plugin):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def _base() -> type[BaseScanner]:
    """BaseScanner, imported when first needed: listing plugins needs no numpy or pandas."""
    from scanner_core.scanner import BaseScanner

    return BaseScanner


def _is_scanner(plugin: object) -> bool:
    BaseScanner = _base()
    if isinstance(plugin, type):
        return issubclass(plugin, BaseScanner)
    return isinstance(plugin, BaseScanner)


@frozen
class EntryPointRecord:
    """One installed entry point of the scanner group, not imported."""

    name: str
    value: str
    distribution: str | None
    version: str | None


@frozen
class PluginInfo:
    """What loading one scanner plugin gave: its class, or why it failed."""

    name: str
    distribution: str | None
    version: str | None
    status: Literal["ok", "failed"]
    reason: str | None = None
    value: str | None = None
    scanner_class: type[BaseScanner] | None = None

    @property
    def ok(self) -> bool:
        """True when the scanner class loaded and validated."""
        return self.status == "ok"

    def with_failure(self, exc: BaseException) -> PluginInfo:
        """This plugin marked failed, with the reason ``exc`` gives."""
        return attrs.evolve(self, status="failed", reason=_reason(exc), scanner_class=None)

    def describe(self) -> str:
        """One line naming the plugin, its distribution and, on failure, the reason."""
        owner = " ".join(filter(None, (self.distribution, self.version)))
        where = f" ({owner})" if owner else ""
        return f"{self.name}{where}: {self.reason or 'ok'}"

    def as_dict(self) -> dict[str, str | None]:
        """The JSON-friendly fields listed by ``scanner plugins --json``."""
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "status": self.status,
            "reason": self.reason,
            "value": self.value,
        }


def strict_mode() -> bool:
    """True when SCANNER_STRICT_PLUGINS asks for plugin failures to raise."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def discover(group: str = ENTRY_POINT_GROUP) -> list[EntryPointRecord]:
    """Every installed entry point of a group (scanners by default), by name, none imported."""
    records = []
    for ep in metadata.entry_points(group=group):
        dist = ep.dist
        records.append(
            EntryPointRecord(
                ep.name,
                ep.value,
                dist.name if dist is not None else None,
                dist.version if dist is not None else None,
            )
        )
    return sorted(records, key=lambda r: (r.name, r.distribution or ""))


def load_plugin(
    spec: str,
    *,
    base_dir: Path | None = None,
    records: Iterable[EntryPointRecord] | None = None,
) -> PluginInfo:
    """Import one scanner named by an entry name, ``file.py[:Class]`` or ``module:Class``.

    Failures come back as a PluginInfo with status "failed" (or raise PluginError
    under SCANNER_STRICT_PLUGINS=1); nothing else is imported.
    """
    if _is_path_spec(spec):
        info = _load_from_file(spec, base_dir)
    elif ":" in spec:
        info = _load_from_module(spec)
    else:
        info = _load_entry_point(spec, discover() if records is None else list(records))
    if not info.ok and strict_mode():
        raise PluginError(info.describe())
    return info


def list_plugins() -> list[PluginInfo]:
    """Load every installed scanner plugin, one at a time, each failure reported by name."""
    records = [r for r in discover() if allowed(r.name, r.distribution)]
    names = sorted({r.name for r in records})
    return [load_plugin(name, records=records) for name in names]


def _is_path_spec(spec: str) -> bool:
    path = spec.rsplit(":", 1)[0] if _has_class_suffix(spec) else spec
    return path.endswith(".py") or "/" in path or os.sep in path


def _has_class_suffix(spec: str) -> bool:
    head, sep, tail = spec.rpartition(":")
    return bool(sep and head and tail.isidentifier())


def _load_entry_point(name: str, records: list[EntryPointRecord]) -> PluginInfo:
    claims = [r for r in records if r.name == name] or _claims_of_distribution(name, records)
    if not claims:
        reason = f"no installed scanner plugin named {name!r}{_did_you_mean(name, records)}"
        return PluginInfo(name, None, None, "failed", reason)
    if len(claims) > 1:
        owners = " and ".join(f"{r.distribution} {r.version}" for r in claims)
        return PluginInfo(
            name,
            claims[0].distribution,
            claims[0].version,
            "failed",
            f"scanner name {name!r} is claimed by two distributions: {owners}",
            claims[0].value,
        )
    record = claims[0]
    return _validated(
        name,
        record.distribution,
        record.version,
        record.value,
        lambda: _import_object(record.value),
    )


def _claims_of_distribution(name: str, records: list[EntryPointRecord]) -> list[EntryPointRecord]:
    """A distribution name (``scanner-momentum``) stands for its one scanner."""
    wanted = _normalized(name)
    claims = [r for r in records if r.distribution and _normalized(r.distribution) == wanted]
    return claims if len(claims) == 1 else []


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _did_you_mean(name: str, records: list[EntryPointRecord]) -> str:
    names = sorted({r.name for r in records})
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _load_from_module(spec: str) -> PluginInfo:
    module_name = spec.partition(":")[0]
    dist, version = _distribution_of(module_name)
    return _validated(spec, dist, version, spec, lambda: _import_object(spec))


def _load_from_file(spec: str, base_dir: Path | None) -> PluginInfo:
    path_text, class_name = spec, None
    if _has_class_suffix(spec):
        path_text, _, class_name = spec.rpartition(":")
    path = Path(path_text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return _validated(spec, None, None, spec, lambda: _class_from_file(path, class_name))


def _validated(
    name: str,
    dist: str | None,
    version: str | None,
    value: str,
    load: Callable[[], object],
) -> PluginInfo:
    """Run ``load`` and validate its result, turning any failure into a reason."""
    try:
        obj = load()
        validate_scanner_class(obj)
    # SystemExit too: a module that exits at import ("needs Python 3.12") must not end
    # the listing or the session; only an interrupt passes.
    except (Exception, SystemExit) as exc:
        return PluginInfo(name, dist, version, "failed", _reason(exc), value)
    return PluginInfo(name, dist, version, "ok", None, value, obj)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PluginError):
        return str(exc)
    if isinstance(exc, pluggy.PluginValidationError):
        return f"bad hook implementation: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _import_object(value: str) -> object:
    module_name, _, attr_path = value.partition(":")
    obj: object = importlib.import_module(module_name)
    for attr in filter(None, attr_path.split(".")):
        obj = getattr(obj, attr)
    return obj


def _class_from_file(path: Path, class_name: str | None) -> type[BaseScanner]:
    if not path.is_file():
        raise PluginError(f"no such scanner file: {path}")
    module_name = f"scanner_local_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # dataclass-like decorators look their module up here
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    if class_name is not None:
        if not hasattr(module, class_name):
            raise PluginError(f"{path} has no class {class_name!r}")
        return getattr(module, class_name)
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, _base())
        and obj.__module__ == module_name
        and not inspect.isabstract(obj)
    ]
    if len(found) != 1:
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        raise PluginError(
            f"{path} must define exactly one BaseScanner subclass (found: {names}); "
            "name one with file.py:ClassName"
        )
    return found[0]


def _distribution_of(module_name: str) -> tuple[str | None, str | None]:
    """The distribution that ships a module: via its scanner entry points, else its files."""
    top = module_name.split(".")[0]
    for record in discover():
        if record.value.split(":")[0].split(".")[0] == top:
            return record.distribution, record.version
    # Editable installs list no package files, hence the entry points first.
    dists = metadata.packages_distributions().get(top, [])
    if not dists:
        return None, None
    return dists[0], metadata.version(dists[0])


def validate_scanner_class(obj: object) -> None:
    """Raise PluginError unless ``obj`` is a concrete BaseScanner subclass whose lifecycle
    methods can be called with a context (and, under SCANNER_STRICT_PLUGINS=1, no method
    looks like a misspelled one)."""
    if not (isinstance(obj, type) and issubclass(obj, _base())):
        raise PluginError(f"{obj!r} is not a BaseScanner subclass")
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(obj.__abstractmethods__))
        raise PluginError(f"{obj.__name__} does not implement {missing}")
    for name in LIFECYCLE_HOOKS:
        method = getattr(obj, name)
        try:
            inspect.signature(method).bind(None, None)
        except TypeError:
            signature = inspect.signature(method)
            raise PluginError(
                f"bad hook implementation: {obj.__name__}.{name}{signature} cannot be called"
                f" as {name}(self, context)"
            ) from None
    typos = lifecycle_typos(obj)
    if typos and strict_mode():
        raise PluginError("; ".join(typos))


def lifecycle_typos(cls: type[BaseScanner]) -> list[str]:
    """One line per public method that looks like a misspelled lifecycle method."""
    problems = []
    for name in _own_public_methods(cls):
        if any(hook in name for hook in LIFECYCLE_HOOKS):
            continue  # scan_day, rescan: named after a lifecycle method, not misspelled
        close = difflib.get_close_matches(name, LIFECYCLE_HOOKS, n=1, cutoff=0.75)
        if close:
            problems.append(
                f"{cls.__name__}.{name} looks like a misspelled {close[0]}(); it is never called"
            )
    return problems


def _own_public_methods(cls: type[BaseScanner]) -> list[str]:
    base = set(dir(_base()))
    return sorted(
        name
        for name in dir(cls)
        if not name.startswith("_") and name not in base and callable(getattr(cls, name, None))
    )


def check_requirements(requirements: Iterable[str]) -> list[str]:
    """Problems with required plugins, e.g. ``"scanner-gap>=0.1"``: missing, too old, invalid."""
    # Imported here: only `check` and a session need it, not `scanner plugins` or --help.
    from packaging.requirements import InvalidRequirement, Requirement

    problems = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            problems.append(f"invalid plugin requirement {text!r}: {exc}")
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"required plugin {req.name} is not installed (need {text!r})")
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            problems.append(
                f"required plugin {req.name} {installed} is installed, but {text!r} is required"
            )
    return problems


def check_scanners(
    scanners: Iterable[ScannerConfig],
    required: Iterable[str] = (),
    *,
    base_dir: Path | None = None,
    file: str = "<config>",
    built: list[tuple[int, ScannerConfig, BaseScanner]] | None = None,
) -> list[str]:
    """Problems with a session's enabled scanners and required plugins, one line each.

    Each line starts with ``file`` and the field path of the entry at fault. Scanners
    that build are appended to ``built`` as (index, config, instance) when given.
    """
    from scanner_core.compose import build_composite, composes

    records = discover()
    problems = []
    scanners = list(scanners)
    for index, cfg in enumerate(scanners):
        if not cfg.enabled:
            continue
        if composes(cfg):
            try:
                composite = build_composite(
                    cfg, scanners, scanner_builder(base_dir=base_dir, records=records, file=file)
                )
            except ConfigError as exc:
                problems.extend(str(exc).splitlines())
            except Exception as exc:  # a child that is not installed, or fails to build
                problems.append(f"{file}: scanners[{index}] ({cfg.name}): {exc}")
            else:
                if built is not None:
                    built.append((index, cfg, composite))
            continue
        try:
            info = load_plugin(cfg.module, base_dir=base_dir, records=records)
        except PluginError as exc:  # strict mode raises; a check still lists every problem
            problems.append(f"{file}: scanners[{index}] ({cfg.name}): {exc}")
            continue
        if not info.ok:
            problems.append(f"{file}: scanners[{index}] ({cfg.name}): {info.describe()}")
            continue
        try:
            scanner = build_scanner(info, cfg, file=file, index=index)
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
        except Exception as exc:  # a constructor's own bug, reported like an import failure
            failure = info.with_failure(exc).describe()
            problems.append(f"{file}: scanners[{index}] ({cfg.name}): {failure}")
        else:
            where = f"{file}: scanners[{index}] ({cfg.name})"
            problems.extend(f"{where}: {typo}" for typo in lifecycle_typos(info.scanner_class))
            if built is not None:
                built.append((index, cfg, scanner))
    # A bad child entry is reported once, however many compositions name it.
    problems = list(dict.fromkeys(problems))
    return problems + [f"{file}: {p}" for p in check_requirements(required)]


def scanner_builder(
    *, base_dir: Path | None, records: list[EntryPointRecord] | None, file: str
) -> Callable[[int | None, ScannerConfig], BaseScanner]:
    """Builds the scanners a composition names: ``build(index, entry)``; raises on failure."""

    def build(index: int | None, cfg: ScannerConfig) -> BaseScanner:
        info = load_plugin(cfg.module, base_dir=base_dir, records=records)
        if not info.ok:
            raise PluginError(f"scanner {info.describe()}")
        return build_scanner(info, cfg, file=file, index=index)

    return build


def build_scanner(
    info: PluginInfo, cfg: ScannerConfig, *, file: str = "<config>", index: int | None = None
) -> BaseScanner:
    """An instance of a loaded scanner for one config entry, named by it.

    Scanners with a ``settings_class`` get their ``config`` table structured by the
    constructor; errors then name the config file and ``scanners[index].config.<field>``.
    """
    if info.scanner_class.settings_class is None:
        scanner = info.scanner_class(dict(cfg.config or {}))
    else:
        path = "config" if index is None else f"scanners[{index}].config"
        scanner = info.scanner_class(dict(cfg.config or {}), file=file, path=path)
    scanner.name = cfg.name
    return scanner
