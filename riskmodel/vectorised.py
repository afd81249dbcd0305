"""Column operations shared by the rules, fast for one resident and for a million."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def first_match(conditions: Sequence[np.ndarray], choices: Sequence[Any], default: Any = 0) -> np.ndarray:
    """Like :func:`numpy.select` (the first true condition picks its choice), built from ``np.where``:
    the same result, without ``select``'s fixed cost, which dominates on a handful of residents."""
    result = np.asarray(default)
    for condition, choice in zip(reversed(conditions), reversed(choices), strict=True):
        result = np.where(condition, choice, result)
    return np.broadcast_to(result, np.shape(conditions[0])).copy() if np.ndim(result) == 0 else result


MISSING: np.ndarray = np.array(None, dtype=object)
"""A missing value for ``np.where`` on object columns (``None`` as a typed 0-d array)."""
