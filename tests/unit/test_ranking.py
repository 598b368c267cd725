import numpy as np

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
