"""Integer sort keys for float32 scores, so that one partial or stable integer sort replaces a sort on several keys."""

from __future__ import annotations

import numpy as np


def descending_key(values: np.ndarray) -> np.ndarray:
    """uint64 keys in [0, 2**32) whose ascending order is float32 `values`' descending order.

    Equal values get equal keys (-0.0 and 0.0 included), so a key shifted left by 32 bits leaves room for a
    tie-breaker below it (a column, a term) or a group above it (a row): (row << 32) | key sorts rows apart
    and each row's values best first. IEEE floats of one sign compare as their bit patterns do; flipping the
    magnitude bits of the negative ones makes the signed patterns compare as the floats.
    Wider floats are taken when each is a float32 (the text fit is summed in float32 and kept as float64); any
    other raises rather than letting two different values share a key.
    """
    values = np.asarray(values)
    narrow = values.astype(np.float32)
    if values.dtype != np.float32 and not np.array_equal(narrow, values):
        raise ValueError("descending_key orders float32 values; these do not all fit one")
    bits = (np.negative(narrow) + np.float32(0.0)).view(np.int32)
    ordered = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))
    return (ordered.astype(np.int64) + (1 << 31)).astype(np.uint64)


def by_group_then_best(group: np.ndarray, values: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """The permutation `np.lexsort((tie, -values, group))` gives: by `group` (int64) ascending, then `values`
    (float32, see `descending_key`) best first, then `tie` (integers in [0, 2**32)) ascending, where no two
    items of one group share a `tie`. Two integer sorts in place of three passes over float and integer keys."""
    low = (descending_key(values) << np.uint64(32)) | np.asarray(tie).astype(np.uint64)
    first = np.argsort(low)  # need not be stable: `low` is unique within each group
    group = np.asarray(group, np.int64)[first]
    if len(group) and 0 <= group.min() and group.max() < 1 << 16:
        group = group.astype(np.uint16)  # numpy sorts 16-bit integers stably by radix, in one pass
    return first[np.argsort(group, kind="stable")]


def in_order(*keys: np.ndarray) -> bool:
    """Whether the items are already in ascending order of `keys`, the first the most significant (as
    `np.lexsort(keys[::-1])` would put them; equal items anywhere). One pass per key, no sort."""
    if len(keys[0]) < 2:
        return True
    undecided = np.ones(len(keys[0]) - 1, bool)  # pairs of neighbours equal on every key so far
    for key in keys:
        if (undecided & (key[1:] < key[:-1])).any():
            return False
        undecided &= key[1:] == key[:-1]
    return True
