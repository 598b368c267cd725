from collections.abc import Sequence

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scanner_core.ranking import rank, ranked_result


def test_rank_orders_by_score_then_name_and_limits():
    symbols = ["CCC", "AAA", "BBB", "DDD"]
    score = np.array([1.0, 2.0, 2.0, 5.0])
    passed = np.array([True, True, True, False])
    assert rank(symbols, score, passed).tolist() == [1, 2, 0]
    assert rank(symbols, score, passed, limit=2).tolist() == [1, 2]


def test_rank_of_nothing_passing_is_empty():
    assert rank(["A"], np.array([np.nan]), np.array([False])).tolist() == []


def test_ranked_result_carries_values_per_symbol():
    symbols = ["AAA", "BBB"]
    result = ranked_result(
        symbols, np.array([1, 0]), {"rsi": np.array([71.0, 80.5])}, skipped_invalid=3
    )
    assert result.symbols == ["BBB", "AAA"]
    assert result.metadata["values"] == {"BBB": {"rsi": 80.5}, "AAA": {"rsi": 71.0}}
    assert result.metadata["skipped_invalid"] == 3


class Watched(Sequence):
    """Symbols that remember which positions were read."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.read = names, set()

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index):
        self.read.add(index)
        return self.names[index]


def test_rank_reads_only_the_names_of_passing_symbols():
    symbols = Watched([f"S{i:04d}" for i in range(1000)])
    passed = np.zeros(1000, dtype=bool)
    passed[[7, 500, 999]] = True
    score = np.ones(1000)
    assert rank(symbols, score, passed).tolist() == [7, 500, 999]
    assert symbols.read == {7, 500, 999}


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.floats(-5, 5), st.booleans()),
        max_size=30,
    )
)
def test_rank_is_the_passing_columns_by_score_then_name(rows):
    symbols = [name for name, _, _ in rows]
    score = np.array([s for _, s, _ in rows])
    passed = np.array([p for _, _, p in rows], dtype=bool)
    expected = sorted(
        (i for i, row in enumerate(rows) if row[2]), key=lambda i: (-score[i], symbols[i])
    )
    got = rank(symbols, score, passed).tolist()
    assert [(-score[i], symbols[i]) for i in got] == [(-score[i], symbols[i]) for i in expected]
