"""Indicator definitions and kernels, vectorized over symbols.

Every kernel keeps per-symbol state in numpy arrays (one row per symbol) and
advances it for one timestamp cross-section at a time: ``update(rows, bar)``
touches only ``rows`` (the symbols that have a bar at that time), so a symbol
without a bar keeps its state unchanged. ``warm(rows, ...)`` is the batch
path: it rebuilds the state of ``rows`` from a history matrix (symbols x time,
time x symbols, NaN close = no bar) by running the very same step over the rows,
which is why batch and incremental state are bit-identical.

Definitions (``p`` is the period; "bars seen" counts a symbol's own bars):

- ``sma``: mean of the last p closes; valid after p bars.
- ``ema``: seeded with the SMA of the first p closes, then
  ``ema += 2/(p+1) * (close - ema)``; valid after p bars.
- ``rsi``: Wilder. Gains/losses are close-to-close changes; the first average
  is the simple mean of the first p changes (needs p+1 bars), then
  ``avg += (x - avg) / p``. RSI = 100 * gain / (gain + loss), 50 when both are 0;
  valid after p+1 bars.
- ``atr``: Wilder. True range is high-low for a symbol's first bar, else
  max(high-low, |high-prev close|, |low-prev close|); seeded with the mean of
  the first p true ranges, then ``atr += (tr - atr) / p``; valid after p bars.
- ``vwap``: session VWAP of the typical price (high+low+close)/3, reset at a
  symbol's first bar of each session; valid when the symbol has traded volume
  in the current session.
- ``prior_high``: max high of the p bars before the newest one (a daily
  breakout's prior high, read after the day's own bar); valid after p + 1 bars.
- ``rolling_high`` / ``rolling_low``: max high / min low of the last p bars;
  valid after p bars.
- ``avg_volume``: mean volume of the last p bars; valid after p bars.
- ``volume_ratio``: the current bar's volume divided by the mean volume of the
  p bars *before* it (the current bar excluded); valid after p+1 bars and while
  that mean is above 0.
- ``prev_close``: the close of the symbol's last bar in an earlier session;
  valid once the symbol has a bar in an earlier session.
- ``day_volume``: the symbol's cumulative volume in the current session (0 when
  it has no bar yet in that session); valid once the symbol has any bar.

Values are NaN wherever ``valid`` is False.
"""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

import numpy as np
from attrs import frozen

from scanner_core.local_time import local_days

#: Weight left on a truncated seed after warm-up of a recursive indicator.
SEED_WEIGHT = 1e-12
#: Session id of "no session yet".
NO_SESSION = np.iinfo(np.int64).min


@frozen
class IndicatorConfig:
    """One indicator: its kind, look-back period and bar interval (e.g. sma, 20, "1d")."""

    name: str
    period: int = 14
    interval: str = "1m"


@frozen(eq=False)
class IndicatorValues:
    """An indicator read across symbols: values (NaN where not valid) and valid flags."""

    values: np.ndarray
    valid: np.ndarray


class Bar(NamedTuple):
    """One cross-section handed to a kernel: fields aligned with the rows that have a bar."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    session: int


def session_ids(ts: np.ndarray, interval: str, tz: str = "America/New_York") -> np.ndarray:
    """Session number (days since epoch of the exchange-local date) for each timestamp."""
    if interval != "1d":
        return local_days(ts, tz)
    return np.asarray(ts, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


class Kernel:
    """Per-symbol state of one indicator, advanced one cross-section at a time."""

    name: ClassVar[str]
    #: State arrays: name -> (fill value, dtype, has a period-wide ring dimension).
    state_spec: ClassVar[dict[str, tuple[float, str, bool]]] = {}

    def __init__(self, period: int, n: int = 0) -> None:
        if period < 1:
            raise ValueError(f"{self.name}: period must be >= 1, got {period}")
        self.period = period
        self.n = 0
        self.session = NO_SESSION
        #: Bumped on every state change, so a reader can keep a read until the next one.
        self.version = 0
        self.count = np.zeros(0, np.int64)
        for key, (fill, dtype, ring) in self.state_spec.items():
            setattr(self, key, np.full((0, period) if ring else 0, fill, dtype, order="F"))
        self.resize(n)

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        """History a symbol needs before its value is valid: (bars, sessions)."""
        return period, 0

    def _arrays(self) -> dict[str, tuple[np.ndarray, float]]:
        spec = {k: (getattr(self, k), fill) for k, (fill, _, _) in self.state_spec.items()}
        return {"count": (self.count, 0), **spec}

    def resize(self, n: int) -> None:
        """Grow the state to n symbols; new symbols start empty."""
        for key, (arr, fill) in self._arrays().items():
            # column-major, so a ring's slot is contiguous and reducing over slots is a
            # few vector passes rather than one short reduction per symbol
            grown = np.full((n, *arr.shape[1:]), fill, arr.dtype, order="F")
            grown[: self.n] = arr[: min(self.n, n)]
            setattr(self, key, grown)
        self.n = n
        self.version += 1

    def reset(self, rows: np.ndarray) -> None:
        """Forget the state of these symbols."""
        for arr, fill in self._arrays().values():
            arr[rows] = fill
        self.version += 1

    def state(self) -> dict[str, np.ndarray]:
        """A copy of every state array (for comparisons)."""
        return {key: arr.copy() for key, (arr, _) in self._arrays().items()}

    def update(self, rows: np.ndarray, bar: Bar) -> None:
        """Advance the symbols in ``rows`` by one bar (the incremental path)."""
        self.session = bar.session
        self.step(rows, bar)
        self.version += 1

    def warm(
        self,
        rows: np.ndarray,
        sessions: np.ndarray,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
    ) -> None:
        """Rebuild the state of ``rows`` from history matrices (time x len(rows), NaN = no bar)."""
        rows = np.asarray(rows, dtype=np.intp)
        self.reset(rows)
        fields = [np.ascontiguousarray(a) for a in (open, high, low, close, volume)]
        present = ~np.isnan(fields[3])
        full = present.all(axis=1)
        for t in range(present.shape[0]):
            # a full cross-section needs no gather: the rows' own views will do
            has = slice(None) if full[t] else present[t]
            self.step(rows[has], Bar(*(f[t, has] for f in fields), int(sessions[t])))
        self.version += 1

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        """Advance the state of ``rows`` by one bar."""
        raise NotImplementedError

    def read(self) -> IndicatorValues:
        """Current values and valid flags over all symbols."""
        raise NotImplementedError


def _push(ring: np.ndarray, rows: np.ndarray, slot: np.ndarray, x: np.ndarray) -> None:
    """Write x into each row's ring buffer at its slot."""
    ring[rows, slot % ring.shape[1]] = x


def _masked(values: np.ndarray, valid: np.ndarray) -> IndicatorValues:
    return IndicatorValues(np.where(valid, values, np.nan), valid)


class _Window(Kernel):
    """The last p values of one bar field in a ring buffer, reduced on read."""

    field: ClassVar[str]
    state_spec: ClassVar = {"ring": (0.0, "f8", True)}

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        count = self.count[rows]
        _push(self.ring, rows, count, getattr(bar, self.field))
        self.count[rows] = count + 1

    def reduce(self) -> np.ndarray:
        """The window reduced to one value per symbol."""
        return self.ring.sum(axis=1) / self.period

    def read(self) -> IndicatorValues:
        valid = self.count >= self.period
        return _masked(self.reduce(), valid)


class Sma(_Window):
    """Simple moving average of closes."""

    name = "sma"
    field = "close"


class AvgVolume(_Window):
    """Mean volume of the last p bars."""

    name = "avg_volume"
    field = "volume"


class RollingHigh(_Window):
    """Highest high of the last p bars."""

    name = "rolling_high"
    field = "high"

    def reduce(self) -> np.ndarray:
        return self.ring.max(axis=1)


class PriorHigh(_Window):
    """Highest high of the p bars before the newest one."""

    name = "prior_high"
    field = "high"

    def __init__(self, period: int, n: int = 0) -> None:
        # the ring holds the newest bar too, which the read leaves out
        super().__init__(period + 1, n)

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return period + 1, 0

    def reduce(self) -> np.ndarray:
        newest = (self.count - 1) % self.period
        older = np.arange(self.period)[None, :] != newest[:, None]
        return np.where(older, self.ring, -np.inf).max(axis=1, initial=-np.inf)


class RollingLow(_Window):
    """Lowest low of the last p bars."""

    name = "rolling_low"
    field = "low"

    def reduce(self) -> np.ndarray:
        return self.ring.min(axis=1)


class VolumeRatio(Kernel):
    """Current volume over the mean volume of the p bars before it."""

    name = "volume_ratio"
    state_spec: ClassVar = {"ring": (0.0, "f8", True), "current": (np.nan, "f8", False)}

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return period + 1, 0

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        count = self.count[rows]
        seen = count > 0
        # the previous bar's volume enters the window as the new one arrives
        _push(self.ring, rows[seen], count[seen] - 1, self.current[rows[seen]])
        self.current[rows] = bar.volume
        self.count[rows] = count + 1

    def read(self) -> IndicatorValues:
        mean = self.ring.sum(axis=1) / self.period
        valid = (self.count > self.period) & (mean > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _masked(self.current / mean, valid)


def _smooth(
    count: np.ndarray,
    seed_at: int,
    total: np.ndarray,
    prev: np.ndarray,
    x: np.ndarray,
    alpha: float,
    n_seed: int,
) -> np.ndarray:
    """Seeded smoothing: NaN before ``seed_at``, the seed mean at it, the recursion after."""
    recursed = prev + alpha * (x - prev)
    return np.where(count < seed_at, np.nan, np.where(count == seed_at, total / n_seed, recursed))


def _decay_bars(alpha: float) -> int:
    """Bars after which a seed's weight falls below SEED_WEIGHT."""
    return math.ceil(math.log(SEED_WEIGHT) / math.log(1.0 - alpha)) if alpha < 1 else 0


class Ema(Kernel):
    """Exponential moving average of closes, seeded with the SMA of the first p."""

    name = "ema"
    state_spec: ClassVar = {"total": (0.0, "f8", False), "ema": (np.nan, "f8", False)}

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return period + _decay_bars(2.0 / (period + 1)), 0

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        count = self.count[rows] + 1
        self.count[rows] = count
        seeding = count <= self.period
        total = self.total[rows] + np.where(seeding, bar.close, 0.0)
        self.total[rows] = total
        alpha = 2.0 / (self.period + 1)
        self.ema[rows] = _smooth(
            count, self.period, total, self.ema[rows], bar.close, alpha, self.period
        )

    def read(self) -> IndicatorValues:
        return _masked(self.ema, self.count >= self.period)


class Rsi(Kernel):
    """Wilder's relative strength index of closes."""

    name = "rsi"
    state_spec: ClassVar = {
        "last": (np.nan, "f8", False),
        "gain_total": (0.0, "f8", False),
        "loss_total": (0.0, "f8", False),
        "gain": (np.nan, "f8", False),
        "loss": (np.nan, "f8", False),
    }

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return period + 1 + _decay_bars(1.0 / period), 0

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        count = self.count[rows] + 1
        self.count[rows] = count
        change = np.where(count > 1, bar.close - self.last[rows], 0.0)
        self.last[rows] = bar.close
        up = np.maximum(change, 0.0)
        down = np.maximum(-change, 0.0)
        seeding = count <= self.period + 1
        alpha = 1.0 / self.period
        for side, x in (("gain", up), ("loss", down)):
            total = getattr(self, f"{side}_total")
            total[rows] += np.where(seeding, x, 0.0)
            avg = getattr(self, side)
            avg[rows] = _smooth(
                count, self.period + 1, total[rows], avg[rows], x, alpha, self.period
            )

    def read(self) -> IndicatorValues:
        both = self.gain + self.loss
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = np.where(both > 0, 100.0 * self.gain / both, 50.0)
        return _masked(rsi, self.count > self.period)


class Atr(Kernel):
    """Wilder's average true range."""

    name = "atr"
    state_spec: ClassVar = {
        "last": (np.nan, "f8", False),
        "total": (0.0, "f8", False),
        "atr": (np.nan, "f8", False),
    }

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return period + _decay_bars(1.0 / period), 0

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        count = self.count[rows] + 1
        self.count[rows] = count
        last = self.last[rows]
        span = bar.high - bar.low
        gaps = np.maximum(np.abs(bar.high - last), np.abs(bar.low - last))
        tr = np.where(count > 1, np.fmax(span, gaps), span)
        self.last[rows] = bar.close
        total = self.total[rows] + np.where(count <= self.period, tr, 0.0)
        self.total[rows] = total
        self.atr[rows] = _smooth(
            count, self.period, total, self.atr[rows], tr, 1.0 / self.period, self.period
        )

    def read(self) -> IndicatorValues:
        return _masked(self.atr, self.count >= self.period)


class _SessionKernel(Kernel):
    """State that restarts at each symbol's first bar of a new session."""

    sessions_needed: ClassVar[int] = 1

    @classmethod
    def warmup(cls, period: int) -> tuple[int, int]:
        return 1, cls.sessions_needed

    def _roll(self, rows: np.ndarray, bar: Bar) -> np.ndarray:
        """Mark rows as seen in this bar's session; True where that session is new to them."""
        fresh = self.day[rows] != bar.session
        self.day[rows] = bar.session
        self.count[rows] += 1
        return fresh

    def current(self) -> np.ndarray:
        """True for symbols whose last bar is in the current session."""
        return self.day == self.session


class Vwap(_SessionKernel):
    """Session VWAP of the typical price."""

    name = "vwap"
    state_spec: ClassVar = {
        "day": (NO_SESSION, "i8", False),
        "volume": (0.0, "f8", False),
        "value": (0.0, "f8", False),
    }

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        keep = ~self._roll(rows, bar)
        typical = (bar.high + bar.low + bar.close) / 3.0
        self.volume[rows] = np.where(keep, self.volume[rows], 0.0) + bar.volume
        self.value[rows] = np.where(keep, self.value[rows], 0.0) + typical * bar.volume

    def read(self) -> IndicatorValues:
        valid = self.current() & (self.volume > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _masked(self.value / self.volume, valid)


class DayVolume(_SessionKernel):
    """Cumulative volume of the current session."""

    name = "day_volume"
    state_spec: ClassVar = {"day": (NO_SESSION, "i8", False), "volume": (0.0, "f8", False)}

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        keep = ~self._roll(rows, bar)
        self.volume[rows] = np.where(keep, self.volume[rows], 0.0) + bar.volume

    def read(self) -> IndicatorValues:
        return _masked(np.where(self.current(), self.volume, 0.0), self.count > 0)


class PrevClose(_SessionKernel):
    """Close of the symbol's last bar in an earlier session."""

    name = "prev_close"
    sessions_needed = 2
    state_spec: ClassVar = {
        "day": (NO_SESSION, "i8", False),
        "last": (np.nan, "f8", False),
        "prev": (np.nan, "f8", False),
    }

    def step(self, rows: np.ndarray, bar: Bar) -> None:
        fresh = self._roll(rows, bar)
        self.prev[rows] = np.where(fresh, self.last[rows], self.prev[rows])
        self.last[rows] = bar.close

    def read(self) -> IndicatorValues:
        # before a symbol's first bar today, its last close is already "yesterday's"
        value = np.where(self.current(), self.prev, self.last)
        return _masked(value, ~np.isnan(value))


#: Kernel class by indicator name, filled through the register_indicators hook: the
#: built-ins by scanner_core.default_plugins.indicators, then any plugin's own.
KERNELS: dict[str, type[Kernel]] = {}


def register_kernel(kernel: type[Kernel], name: str | None = None) -> None:
    """Make a kernel class usable by name in IndicatorConfig (its own ``name`` by default)."""
    if not (isinstance(kernel, type) and issubclass(kernel, Kernel)):
        raise TypeError(f"{kernel!r} is not a Kernel subclass")
    key = name or kernel.name
    known = KERNELS.get(key)
    if known is not None and known is not kernel:
        raise ValueError(
            f"indicator {key!r} is already registered by {known.__module__}.{known.__qualname__}"
        )
    KERNELS[key] = kernel


def kernel_for(config: IndicatorConfig, n: int = 0) -> Kernel:
    """A fresh kernel for this indicator over n symbols; ValueError names an unknown kind."""
    try:
        kind = KERNELS[config.name]
    except KeyError:
        known = ", ".join(sorted(KERNELS))
        raise ValueError(f"unknown indicator {config.name!r} (known: {known})") from None
    return kind(config.period, n)


# The built-ins register through the same hook implementation the plugin manager calls, here
# too so that every kernel is known wherever indicators are read, with or without a session.
from scanner_core.default_plugins import indicators as _builtin  # noqa: E402

_builtin.register_indicators(register_kernel)
