"""Scanner evaluation: what each scanner picked over a range and how the picks did.

``run_backtest`` runs a session in chunks (here, in local processes or on a Dask
cluster), records every pick, measures its forward returns from the store against two
baselines, and writes picks.parquet, summary.json, stats.json and report.html.
"""

from scanner_core.evaluate.backtest import (
    BacktestOptions,
    BacktestResult,
    default_out,
    run_backtest,
)
from scanner_core.evaluate.horizons import DEFAULT_HORIZONS, Horizon, HorizonError, parse_horizons

__all__ = [
    "DEFAULT_HORIZONS",
    "BacktestOptions",
    "BacktestResult",
    "Horizon",
    "HorizonError",
    "default_out",
    "parse_horizons",
    "run_backtest",
]
