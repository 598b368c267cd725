"""The built-in indicator kernels, added through the register_indicators hook."""

from __future__ import annotations

from collections.abc import Callable

from scanner_core.hookspecs import hookimpl


@hookimpl
def register_indicators(register: Callable[..., None]) -> None:
    """Register sma, ema, rsi, atr, vwap and the other built-in kernels by their names."""
    # Imported here: scanner_core.indicators calls this function while it is being imported.
    from scanner_core import indicators as ind

    for kernel in (
        ind.Sma,
        ind.Ema,
        ind.Rsi,
        ind.Atr,
        ind.Vwap,
        ind.RollingHigh,
        ind.PriorHigh,
        ind.RollingLow,
        ind.AvgVolume,
        ind.VolumeRatio,
        ind.PrevClose,
        ind.DayVolume,
    ):
        register(kernel)
