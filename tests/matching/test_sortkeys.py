"""Integer sort keys stand in for sorts on float scores: same order, same ties, at a fraction of the cost."""
from __future__ import annotations

import numpy as np
import pytest

from matching.engine import _best_columns
from matching.sortkeys import by_group_then_best, descending_key


def _scores(rng, shape, distinct=40):
    """Scores with many ties (few distinct values), signed zeros and negative values (the -1 of a barred pair)."""
    values = rng.integers(-5, distinct, shape).astype(np.float32) / np.float32(7.0)
    values[values < 0] = -1.0
    zeros = (values == 0) & (rng.random(shape) < 0.5)
    values[zeros] = -0.0
    return values


def test_keys_order_scores_best_first_and_tie_exactly_where_scores_are_equal():
    rng = np.random.default_rng(3)
    values = np.concatenate([_scores(rng, 5000), np.float32([3.5e-39, -3.5e-39, 1e30, -1e30, 0.0, -0.0])])
    key = descending_key(values)
    assert key.dtype == np.uint64 and int(key.max()) < 2 ** 32
    assert np.array_equal(np.argsort(key, kind="stable"), np.argsort(-values, kind="stable"))
    i, j = rng.integers(0, len(values), (2, 20000))
    assert np.array_equal(key[i] == key[j], values[i] == values[j])


def test_a_float64_fit_is_keyed_as_the_float32_it_is_and_any_other_refused():
    fits = np.float32([0.25, 0.1, 0.7]).astype(np.float64)
    assert np.array_equal(descending_key(fits), descending_key(fits.astype(np.float32)))
    with pytest.raises(ValueError):
        descending_key(np.array([0.1, 0.2]))  # 0.1 as a float64 is no float32: two such fits could share a key


@pytest.mark.parametrize("groups", [1, 7, 300])
def test_by_group_then_best_is_the_three_key_lexsort(groups):
    rng = np.random.default_rng(groups)
    n = 6000
    group = rng.integers(0, groups, n).astype(np.int64) << 32 | rng.integers(0, 3, n)
    values = _scores(rng, n, distinct=12)
    # `tie` unique within a group, as an (applicant, project) pair makes it: numbered in a shuffled order.
    tie = rng.permutation(n).astype(np.int64)
    assert np.array_equal(by_group_then_best(group, values, tie), np.lexsort((tie, -values, group)))


@pytest.mark.parametrize("n", [1, 5, 60, 200])
def test_best_columns_are_those_a_stable_sort_puts_first_ties_to_the_lower_column(n):
    rng = np.random.default_rng(n)
    values = _scores(rng, (300, 200), distinct=6)  # a few distinct fits: ties across the cut in most rows
    best = _best_columns(values, n)
    expected = np.argsort(-values, axis=1, kind="stable")[:, :n]
    assert best.shape == expected.shape
    assert np.array_equal(np.sort(best, axis=1), np.sort(expected, axis=1))
