"""The bar store: Parquet files partitioned by interval and session, read back as Bars.

``BarStore`` reads and writes; ``StoreError`` is every file it cannot read or write,
named; ``verify_store`` checks (and repairs) every partition.
"""

from scanner_core.store.barstore import DEFAULT_ROOT, EXCHANGE_TZ, BarStore, TimeLike
from scanner_core.store.errors import StoreError
from scanner_core.store.rows import WriteStats, concat, local_ns, merge, normalize

__all__ = [
    "DEFAULT_ROOT",
    "EXCHANGE_TZ",
    "BarStore",
    "StoreError",
    "TimeLike",
    "WriteStats",
    "concat",
    "local_ns",
    "merge",
    "normalize",
]
