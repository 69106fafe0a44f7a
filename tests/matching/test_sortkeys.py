"""Integer sort keys stand in for sorts on float scores: same order, same ties, at a fraction of the cost."""
from __future__ import annotations

import numpy as np
import pytest

from matching.engine import _best_columns, preference_order
from matching.sortkeys import by_group_then_best, descending_key, in_order


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
@pytest.mark.parametrize("wide", [True, False])  # groups past 16 bits, or small ones (sorted by radix)
def test_by_group_then_best_is_the_three_key_lexsort(groups, wide):
    rng = np.random.default_rng(groups)
    n = 6000
    group = rng.integers(0, groups, n).astype(np.int64)
    if wide:
        group = group << 32 | rng.integers(0, 3, n)
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


def test_in_order_agrees_with_sorting_on_every_key():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        keys = [rng.integers(0, 3, n), rng.integers(0, 3, n), _scores(rng, n, distinct=3)]
        sorted_order = np.lexsort(keys[::-1])
        assert in_order(*(k[sorted_order] for k in keys))
        shuffled = rng.permutation(n)
        expected = all(tuple(k[shuffled[i]] for k in keys) <= tuple(k[shuffled[i + 1]] for k in keys)
                       for i in range(n - 1))
        assert in_order(*(k[shuffled] for k in keys)) == expected


def test_arcs_come_by_applicant_then_choices_by_rank_then_suggestions_best_first_ties_by_project():
    # Applicant 0: choices ranked 2 then 1, listed out of rank order; applicant 1: suggestions whose fits tie
    # (clipped to 1), listed in another project order. Only a full sort puts them right.
    arc_app = np.array([0, 0, 1, 1, 1, 0], np.int64)
    arc_rank = np.array([2, 1, 0, 0, 0, 0], np.int32)
    arc_fit = np.array([0.5, 0.25, 1.0, 1.0, 0.75, 0.5])
    arc_proj = np.array([7, 3, 9, 4, 1, 2], np.int64)
    order = preference_order(arc_app, arc_rank, arc_fit, arc_proj)
    assert list(zip(arc_app[order].tolist(), arc_proj[order].tolist(), strict=True)) == [
        (0, 3), (0, 7), (0, 2), (1, 4), (1, 9), (1, 1)]
    # Already in that order, the arcs keep it (the merge that prepare relies on).
    ordered = [x[order] for x in (arc_app, arc_rank, arc_fit, arc_proj)]
    assert np.array_equal(preference_order(*ordered), np.arange(6))
