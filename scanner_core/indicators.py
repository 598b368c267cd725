"""Indicator definitions and kernels, vectorized over symbols."""

from __future__ import annotations

from attrs import frozen


@frozen
class IndicatorConfig:
    """One indicator: its kind, look-back period and bar interval (e.g. sma, 20, "1d")."""

    name: str
    period: int = 14
    interval: str = "1m"
