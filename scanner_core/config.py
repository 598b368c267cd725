"""Session configuration: attrs classes, loaded from TOML, YAML or JSON with field-path errors."""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from attrs import field, frozen
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, override

from scanner_core.bars import INTERVAL_MINUTES
from scanner_core.config_errors import (
    ConfigError,
    Invalid,
    Marker,
    Problem,
    expected_one_of,
    render_path,
)
from scanner_core.config_files import read_config_file

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^([1-9][0-9]*)([smh])$")
_STREAM = re.compile(r"^([1-9][0-9]*)([smhd])$")
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")
Mode = Literal["backtest", "live"]
# Symbols as the store keeps them; scanner_core.symbols holds the importer's own copy.
_SYMBOL = re.compile(r"[A-Z0-9.\-_^=]{1,32}")
_SYMBOL_EXPECTED = "a symbol: 1-32 characters of A-Z 0-9 . - _ ^ ="


T = TypeVar("T")


def duration_seconds(text: str) -> int:
    """Seconds in a scan interval such as '30s', '5m' or '1h'."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise Invalid("a duration like '30s', '5m' or '1h'", text)
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def stream_seconds(text: str) -> int:
    """Seconds in a bar interval such as '1m', '5m', '1h' or '1d'."""
    match = _STREAM.match(text) if isinstance(text, str) else None
    if not match:
        raise Invalid("a bar interval like '1m', '5m', '1h' or '1d'", text)
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def _rule(
    check: Callable[[Any], bool], expected: str
) -> Callable[[Any, attrs.Attribute, Any], None]:
    """An attrs validator raising Invalid (with the field name) when check fails."""

    def validate(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        try:
            ok = check(value)
        except Invalid as exc:
            raise Invalid(exc.expected, exc.value, attribute.name) from None
        if not ok:
            raise Invalid(expected, value, attribute.name)

    return validate


def _each(
    check: Callable[[Any], bool], expected: str
) -> Callable[[Any, attrs.Attribute, Any], None]:
    """An attrs validator applying check to every item, naming the item's index."""

    def validate(_inst: Any, attribute: attrs.Attribute, values: Iterable[Any]) -> None:
        for index, value in enumerate(values):
            try:
                ok = check(value)
            except Invalid:
                ok = False
            if not ok:
                raise Invalid(expected, value, f"{attribute.name}[{index}]")

    return validate


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _valid_cron(text: str) -> bool:
    from croniter import CroniterBadDateError, croniter

    if not croniter.is_valid(text):
        return False
    try:
        # Eight years see every Feb 29; a rule like '0 0 30 2 *' matches no date at all.
        croniter(text, dt.datetime(2000, 1, 1), max_years_between_matches=8).get_next()
    except CroniterBadDateError:
        raise Invalid("a cron expression that matches a date that exists", text) from None
    return True


def _is_symbol(value: Any) -> bool:
    return isinstance(value, str) and _SYMBOL.fullmatch(value) is not None


def _symbols(_inst: Any, attribute: attrs.Attribute, values: Iterable[Any] | None) -> None:
    """An attrs validator for a list of symbols (or None), naming the first bad one."""
    if values is not None:
        _each(_is_symbol, _SYMBOL_EXPECTED)(_inst, attribute, values)


def _valid_calendar(name: str) -> bool:
    import exchange_calendars

    return name in exchange_calendars.get_calendar_names(include_aliases=True)


def _valid_requirement(text: str) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


def _positive(value: float | None) -> bool:
    return value is None or value > 0


def _default_interval(schedule: ScannerSchedule) -> str | None:
    return None if schedule.cron else "5m"


@frozen(kw_only=True)
class ScannerSchedule:
    """When a scanner runs: every `interval` (or on a `cron` expression) inside a daily window."""

    cron: str | None = field(
        default=None,
        validator=_rule(_optional(_valid_cron), "a cron expression like '*/5 9-15 * * 1-5'"),
    )
    # A cron schedule needs no interval, so the 5-minute default applies only without one.
    interval: str | None = field(
        default=attrs.Factory(_default_interval, takes_self=True),
        validator=_rule(_optional(duration_seconds), "a duration"),
    )

    start_time: dt.time | None = None
    end_time: dt.time | None = None
    days_of_week: tuple[str, ...] = field(
        default=WEEKDAYS[:5],
        converter=tuple,
        validator=_each(WEEKDAYS.__contains__, "a weekday: one of " + ", ".join(WEEKDAYS)),
    )

    def __attrs_post_init__(self) -> None:
        if self.interval is not None and self.cron is not None:
            raise Invalid("either interval or cron, not both", self.cron, "cron")
        if self.interval is None and self.cron is None:
            raise Invalid("an interval or a cron expression", None, "interval")
        if self.start_time and self.end_time and self.start_time > self.end_time:
            raise Invalid(
                f"a time at or after start_time {self.start_time:%H:%M}",
                self.end_time.strftime("%H:%M"),
                "end_time",
            )

    @property
    def interval_seconds(self) -> int | None:
        """The interval in seconds, or None for a cron schedule."""
        return None if self.interval is None else duration_seconds(self.interval)


def _valid_history(_inst: Any, attribute: attrs.Attribute, history: dict[str, int]) -> None:
    for interval, bars in history.items():
        at = f"{attribute.name}.{interval}"
        if interval not in INTERVAL_MINUTES:
            raise Invalid(f"a bar interval ({', '.join(INTERVAL_MINUTES)})", interval, at)
        if bars < 0:
            raise Invalid("a bar count >= 0", bars, at)


@frozen(kw_only=True)
class SymbolRequirements:
    """History a scanner needs per interval beyond its indicators', e.g. {"1d": 30} bars."""

    history: dict[str, int] = field(factory=dict, validator=_valid_history)


def _printable(most: int) -> Callable[[Any], bool]:
    # Names reach logs, stats and error lines, where a newline or an escape would forge lines.
    return lambda text: isinstance(text, str) and 0 < len(text) <= most and text.isprintable()


def _default_name(config: ScannerConfig) -> str:
    return config.module or config.compose or ""


def _expression(text: str) -> bool:
    from scanner_core.expression import GRAMMAR, ExpressionError, parse

    try:
        parse(text)
    except ExpressionError as exc:
        raise Invalid(f"{GRAMMAR} ({exc})", text) from None
    return True


def _expression_rule() -> Callable[[Any, attrs.Attribute, Any], None]:
    return _rule(_optional(lambda t: _printable(1000)(t) and _expression(t)), "an expression")


def _minutes_rule() -> Callable[[Any, attrs.Attribute, Any], None]:
    return _rule(lambda n: n >= 0, "a number of minutes >= 0")


@frozen(kw_only=True)
class ScannerConfig:
    """One scanner enabled in a session: which plugin or composition, when it runs, its limits."""

    module: str = field(
        default="",
        validator=_rule(
            lambda m: m == "" or _printable(256)(m),
            "a scanner name, file.py or package.module:Class",
        ),
    )
    #: Scanners combined by an expression, instead of a module: "gap & momentum".
    compose: str | None = field(default=None, validator=_expression_rule())
    name: str = field(
        default=attrs.Factory(_default_name, takes_self=True),
        validator=_rule(_printable(256), "a scanner name of 1-256 printable characters"),
    )
    enabled: bool = True
    pre_session: bool = False
    schedule: ScannerSchedule = field(factory=ScannerSchedule)
    config: dict[str, Any] = field(factory=dict)
    symbol_requirements: SymbolRequirements = field(factory=SymbolRequirements)
    # 0 turns the timeout off: the scan then runs in the session's process, with no fork.
    timeout_seconds: float | None = field(
        default=30.0,
        converter=lambda seconds: None if seconds == 0 else seconds,
        validator=_rule(_positive, "a number >= 0 (0: no timeout)"),
    )
    max_symbols: int | None = field(default=None, validator=_rule(_positive, "a count > 0"))
    max_retries: int = field(
        default=0, validator=_rule(lambda n: 0 <= n <= 10, "a count from 0 to 10")
    )
    max_consecutive_failures: int = field(default=3, validator=_rule(_positive, "a count > 0"))
    #: A symbol this scanner added stays at least this long before a removal rule drops it.
    min_minutes_in_session: float = field(default=0, validator=_minutes_rule())
    #: A symbol a removal rule took out may not be added again by this scanner for so long.
    cooldown_minutes: float = field(default=0, validator=_minutes_rule())
    #: An expression; a symbol this scanner added leaves when it passes at a later scan.
    remove_when: str | None = field(default=None, validator=_expression_rule())

    def __attrs_post_init__(self) -> None:
        if not self.module and self.compose is None:
            raise Invalid(
                "a value: a scanner module, or a compose expression", Marker.NONE, "module"
            )
        if self.module and self.compose is not None:
            raise Invalid("either module or compose, not both", self.compose, "compose")


@frozen(kw_only=True)
class UniverseConfig:
    """The symbols scanners search: an explicit list, a file of symbols, or the whole store."""

    symbols: tuple[str, ...] | None = field(
        default=None, converter=attrs.converters.optional(tuple), validator=_symbols
    )
    file: Path | None = None
    all: bool = False

    def __attrs_post_init__(self) -> None:
        given = [n for n in ("symbols", "file") if getattr(self, n) is not None]
        given += ["all"] if self.all else []
        if len(given) != 1:
            at = given[1] if len(given) > 1 else ""
            raise Invalid("exactly one of symbols, file or all = true", Marker.NONE, at)

    def resolve(self, store_symbols: Iterable[str] = ()) -> list[str]:
        """The universe's symbols; `store_symbols` is every symbol the store holds."""
        if self.symbols is not None:
            return list(self.symbols)
        if self.file is not None:
            return read_symbols(self.file)
        return sorted(set(store_symbols))


def read_symbols(path: Path) -> list[str]:
    """Symbols from a text file, one per line; blank lines and '#' comments are skipped."""
    return list(dict.fromkeys(text.upper() for _, text in _symbol_lines(path)))


def _symbol_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of a symbols file that holds one."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text := line.split("#", 1)[0].strip():
            yield number, text


def _bad_symbol_line(path: Path) -> tuple[int, str] | None:
    """The first line of a symbols file that is no symbol (lower case is fine), if any."""
    for number, text in _symbol_lines(path):
        if not (text.isascii() and _is_symbol(text.upper())):
            return number, text
    return None


@frozen(kw_only=True)
class DataConfig:
    """Where the bar store lives."""

    store: Path = Path("var/store")


@frozen(kw_only=True)
class SessionConfig:
    """A whole session: symbols, bar streams, scanners, data, universe, mode and dates."""

    symbols: list[str] = field(factory=list, validator=_symbols)
    # Only the intervals a session builds bars for: '7m' would parse, then fail the run.
    # The base interval is always streamed, so the default adds nothing to it: a default
    # of "1m" would make every 15m or daily store a config error over a line never written.
    streams: list[str] = field(
        factory=list,
        validator=_each(
            lambda s: isinstance(s, str) and s in INTERVAL_MINUTES,
            "a bar interval the session supports: " + expected_one_of(INTERVAL_MINUTES),
        ),
    )
    #: The session's finest interval; None: the finest interval the store holds.
    base_interval: str | None = field(
        default=None,
        validator=_rule(
            _optional(INTERVAL_MINUTES.__contains__), expected_one_of(INTERVAL_MINUTES)
        ),
    )
    scanners: list[ScannerConfig] = field(factory=list)
    data: DataConfig = field(factory=DataConfig)
    universe: UniverseConfig = field(factory=lambda: UniverseConfig(all=True))
    mode: Mode = field(
        default="backtest",
        validator=_rule(("backtest", "live").__contains__, "'backtest' or 'live'"),
    )
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    calendar: str = field(
        default="XNYS", validator=_rule(_valid_calendar, "an exchange calendar name such as 'XNYS'")
    )
    max_session_symbols: int | None = field(default=None, validator=_rule(_positive, "a count > 0"))
    required_plugins: list[str] = field(
        factory=list,
        validator=_each(_valid_requirement, "a requirement such as 'scanner-gap>=0.1'"),
    )

    def __attrs_post_init__(self) -> None:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise Invalid(
                f"a date on or after start_date {self.start_date}", str(self.end_date), "end_date"
            )
        seen: set[str] = set()
        for index, scanner in enumerate(self.scanners):
            if scanner.name in seen:
                raise Invalid(
                    "a name no other scanner uses", scanner.name, f"scanners[{index}].name"
                )
            seen.add(scanner.name)


def _strict(kind: type | tuple[type, ...], expected: str) -> Callable[[Any, type], Any]:
    """A structure hook that takes values of `kind` as they are (no str(5) or bool('no'))."""

    def structure(value: Any, _type: type) -> Any:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise Invalid(expected, value)
        if not isinstance(value, kind):
            raise Invalid(expected, value)
        return value

    return structure


def _structure_time(value: Any, _type: type) -> dt.time:
    if isinstance(value, dt.time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if not match:
        raise Invalid("a time 'HH:MM' in exchange time", value)
    return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))


def _structure_date(value: Any, _type: type) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid("a date 'YYYY-MM-DD'", value) from None


def _structure_path(value: Any, _type: type) -> Path:
    if not isinstance(value, str) or not value:
        raise Invalid("a path", value)
    return Path(value)


def _structure_float(value: Any, _type: type) -> float:
    return float(_strict((int, float), "a number")(value, _type))


def _structure_literal(value: Any, type_: Any) -> Any:
    # Compare types too, so true does not pass for 1 nor 1 for true.
    for choice in get_args(type_):
        wanted = choice.value if isinstance(choice, enum.Enum) else choice
        if type(value) is type(wanted) and value == wanted:
            return choice
    raise Invalid(expected_one_of(_choice_values(get_args(type_))), value)


def _structure_enum(value: Any, type_: type[enum.Enum]) -> enum.Enum:
    try:
        return type_(value)
    except ValueError:
        raise Invalid(expected_one_of(_choice_values(type_)), value) from None


def _choice_values(choices: Iterable[Any]) -> list[Any]:
    return [c.value if isinstance(c, enum.Enum) else c for c in choices]


def _checked(attribute: attrs.Attribute, inner: Callable[[Any, type], Any]) -> Callable:
    """A field's structure hook that also runs the field's attrs converter and validator.

    Running them here, inside cattrs' per-field error collection, reports every bad field
    in one pass instead of stopping at the first one the class __init__ meets.
    """

    def structure(value: Any, type_: type) -> Any:
        result = inner(value, type_)
        if attribute.converter is not None:
            result = attribute.converter(result)
        try:
            attribute.validator(None, attribute, result)
        except Invalid as exc:
            at = exc.at.removeprefix(attribute.name)
            # Show the value as written, not as converted (-1 rather than -1.0).
            raise Invalid(exc.expected, exc.value if at else value, at) from None
        return result

    return structure


def _is_sequence_type(type_: Any) -> bool:
    """Whether a field holds a list or tuple (optional or not)."""
    if type_ in (list, tuple) or get_origin(type_) in (list, tuple):
        return True
    return get_origin(type_) in (Union, types.UnionType) and any(
        map(_is_sequence_type, get_args(type_))
    )


def _listed(inner: Callable[[Any, type], Any]) -> Callable[[Any, type], Any]:
    """A sequence field's structure hook that refuses a string or a table.

    Both are iterable, so without this ``symbols = "AAPL"`` would pass as A, A, P, L.
    """

    def structure(value: Any, type_: type) -> Any:
        if isinstance(value, str | bytes | Mapping):
            raise Invalid("a list", value)
        return inner(value, type_)

    return structure


def _attrs_hook_factory(converter: cattrs.Converter) -> Callable[[type], Callable]:
    def factory(cls: type) -> Callable:
        attrs.resolve_types(cls)
        overrides = {}
        for a in attrs.fields(cls):
            if a.validator is None and not _is_sequence_type(a.type):
                continue
            hook = converter.get_structure_hook(a.type)
            if _is_sequence_type(a.type):
                hook = _listed(hook)
            if a.validator is not None:
                hook = _checked(a, hook)
            overrides[a.name] = override(struct_hook=hook)
        return make_dict_structure_fn(cls, converter, **overrides)

    return factory


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(
        forbid_extra_keys=True, detailed_validation=True, omit_if_default=True
    )
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(bool, _strict(bool, "true or false"))
    converter.register_structure_hook(int, _strict(int, "a whole number"))
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(dt.time, _structure_time)
    converter.register_structure_hook(dt.date, _structure_date)
    converter.register_structure_hook(Path, _structure_path)
    # Registered before Mode's own hook, which takes precedence over it.
    converter.register_structure_hook_func(lambda t: get_origin(t) is Literal, _structure_literal)
    converter.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    converter.register_structure_hook_func(
        lambda t: t == Mode, _strict(str, "'backtest' or 'live'")
    )
    converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory(converter))
    converter.register_unstructure_hook(dt.time, lambda t: t.strftime("%H:%M"))
    converter.register_unstructure_hook(dt.date, dt.date.isoformat)
    converter.register_unstructure_hook(Path, str)
    return converter


converter: cattrs.Converter = _make_converter()


def _lookup(data: Any, path: list[str | int]) -> Any:
    """The raw value at a field path, or Marker.MISSING when the data has none there."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return Marker.MISSING
    return data


def _leaves(
    exc: BaseException, path: list[str | int]
) -> Iterator[tuple[list[str | int], BaseException]]:
    """Each underlying error of a cattrs validation group, with its field path."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            step = note.name if isinstance(note, AttributeValidationNote) else note.index
            yield from _leaves(sub, [*path, step])
        for sub in without:
            yield from _leaves(sub, path)
    else:
        yield path, exc


def _problem(file: str, raw: Any, path: list[str | int], exc: BaseException) -> Problem:
    """Turn one structuring error into a Problem."""
    if isinstance(exc, ForbiddenExtraKeysError):
        # Report the first unknown key only: each is its own line once the user fixes one.
        key = sorted(exc.extra_fields)[0]
        known = ", ".join(a.name for a in attrs.fields(exc.cl))
        path = [*path, key]
        return Problem(file, render_path(path), Marker.UNKNOWN_KEY, f"one of {known}")
    if isinstance(exc, Invalid):
        if exc.at:
            path = [*path, *_parse_at(exc.at)]
        value = exc.value if exc.value is not Marker.NONE else _lookup(raw, path)
        if value is Marker.MISSING:
            value = Marker.NONE
        return Problem(file, render_path(path), value, exc.expected)
    value = _lookup(raw, path)
    if isinstance(exc, KeyError) and value is Marker.MISSING:
        return Problem(file, render_path(path), Marker.MISSING, "a value: this key is required")
    if isinstance(exc, ValueError):
        expected = _attrs_expected(exc)
        shown = Marker.NONE if value is Marker.MISSING else value
        return Problem(file, render_path(path), shown, expected or f"a valid value ({exc})")
    if value is not Marker.MISSING and not isinstance(value, Mapping):
        return Problem(file, render_path(path), value, "a table of settings")
    return Problem(file, render_path(path), Marker.NONE, f"a valid value ({exc})")


_ATTRS_BOUND = re.compile(r"^'[^']*' must be ([<>]=?) (.+): ")
_ATTRS_LENGTH = re.compile(r"^Length of '[^']*' must be ([<>]=?) (\d+): ")


def _attrs_expected(exc: ValueError) -> str | None:
    """What a failing attrs validator (ge, lt, in_, max_len, ...) expected, if it says so."""
    text = str(exc.args[0]) if exc.args else ""
    if match := _ATTRS_BOUND.match(text):
        return f"a number {match[1]} {match[2]}"
    if match := _ATTRS_LENGTH.match(text):
        return f"a length {match[1]} {match[2]}"
    # in_() passes (message, attribute, options, value)
    if len(exc.args) == 4 and isinstance(exc.args[1], attrs.Attribute) and " must be in " in text:
        return expected_one_of(exc.args[2])
    return None


def _parse_at(at: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", at) if p]


def parse_config(data: Any, file: str = "<config>", base_dir: Path | None = None) -> SessionConfig:
    """Structure an already-parsed config mapping into a SessionConfig, or raise ConfigError."""
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(file, "", data, "a table of settings at the top level")])
    config = structure(data, SessionConfig, file)
    _check_schedules(config, file)
    _check_compositions(config, file)
    return _resolve_paths(config, file, base_dir or Path.cwd())


def structure(data: Any, cls: type[T], file: str = "<config>", prefix: str = "") -> T:
    """Structure a mapping into an attrs class, or raise ConfigError with field paths.

    ``prefix`` is the path of ``data`` inside its file (e.g. ``scanners[0].config``), so
    a scanner's own settings report paths from the top of the config file.
    """
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(file, prefix, data, "a table of settings")])
    try:
        return converter.structure(data, cls)
    except (ClassValidationError, IterableValidationError) as group:
        problems = [_problem(file, data, path, exc) for path, exc in _leaves(group, [])]
        if prefix:
            problems = [attrs.evolve(p, path=_join_paths(prefix, p.path)) for p in problems]
        raise ConfigError(list({str(p): p for p in problems}.values())) from None


def _join_paths(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _resolve_paths(config: SessionConfig, file: str, base_dir: Path) -> SessionConfig:
    """Anchor relative paths at the config file's folder; the universe file must exist."""
    store = config.data.store if config.data.store.is_absolute() else base_dir / config.data.store
    universe = config.universe
    if universe.file is not None:
        if not universe.file.is_absolute():
            universe = attrs.evolve(universe, file=base_dir / universe.file)
        if not universe.file.is_file():
            raise ConfigError(
                [Problem(file, "universe.file", str(universe.file), "an existing file of symbols")]
            )
        _check_symbols_file(universe.file, file)
    return attrs.evolve(config, data=DataConfig(store=store), universe=universe)


def _check_symbols_file(path: Path, file: str) -> None:
    try:
        bad = _bad_symbol_line(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            [
                Problem(
                    file, "universe.file", Marker.UNREADABLE, f"a text file of symbols ({reason})"
                )
            ]
        ) from None
    if bad is not None:
        number, text = bad
        raise ConfigError(
            [Problem(file, f"universe.file: {path} line {number}", text, _SYMBOL_EXPECTED)]
        )


def _check_schedules(config: SessionConfig, file: str) -> None:
    """Refuse cron schedules that would never run on a session of the config's calendar."""
    from scanner_core.schedule import runs_within_a_year

    start = config.start_date or dt.date.today()
    expected = f"a cron that fires on a {config.calendar} session within a year of {start}"
    problems = [
        Problem(file, f"scanners[{index}].schedule.cron", scanner.schedule.cron, expected)
        for index, scanner in enumerate(config.scanners)
        if scanner.schedule.cron is not None
        and runs_within_a_year(scanner.schedule, config.calendar, start) is False
    ]
    if problems:
        raise ConfigError(problems)


def _check_compositions(config: SessionConfig, file: str) -> None:
    """Refuse compositions that name themselves (directly or through another) or take settings."""
    from scanner_core.expression import names

    composed = {s.name: names(s.compose) for s in config.scanners if s.compose is not None}
    problems = []
    for index, scanner in enumerate(config.scanners):
        if scanner.compose is not None and scanner.config:
            problems.append(
                Problem(
                    file,
                    f"scanners[{index}].config",
                    scanner.config,
                    "no settings: a composition's scanners take theirs from their own entries",
                )
            )
        if scanner.compose is not None and _reaches(scanner.name, composed):
            problems.append(
                Problem(
                    file,
                    f"scanners[{index}].compose",
                    scanner.compose,
                    f"an expression that does not name {scanner.name!r} itself,"
                    " directly or through another composition",
                )
            )
    if problems:
        raise ConfigError(problems)


def _reaches(name: str, composed: Mapping[str, list[str]]) -> bool:
    """Whether the composition ``name`` names itself through the compositions it names."""
    seen: set[str] = set()
    todo = list(composed[name])
    while todo:
        current = todo.pop()
        if current == name:
            return True
        if current not in seen and current in composed:
            seen.add(current)
            todo.extend(composed[current])
    return False


def load_config(path: str | Path) -> SessionConfig:
    """Read a TOML, YAML or JSON session config; raise ConfigError naming every problem."""
    path = Path(path)
    return parse_config(read_config_file(path), str(path), path.resolve().parent)


def dump_config(config: SessionConfig) -> dict[str, Any]:
    """A SessionConfig as plain data that load_config would read back (JSON-ready)."""
    return converter.unstructure(config)
