"""The training reference a model keeps, and the population stability index of a batch against it (SPEC 12).

The reference holds, per disease and feature, the decile edges of the training residents of the served
population, each bin's share and the missing share; and the deciles of P(chronic). A batch's values are
binned on the same edges (missing values as a bin of their own) and compared: PSI = sum (a - e) ln(a / e).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

EPSILON = 1e-4
"""Empty bins count as this share, so that PSI stays finite."""


def _edges(values: np.ndarray) -> list[float]:
    known = values[~np.isnan(values)]
    if not len(known):
        return []
    return sorted(set(np.quantile(known, np.linspace(0.1, 0.9, 9)).round(6).tolist()))


def bin_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bin (len(edges) + 1 bins, then one for missing values)."""
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(np.asarray(edges), values[~missing], side="right"), minlength=len(edges) + 1)
    return np.append(counts, missing.sum()).astype(np.float64)


def reference(matrix: np.ndarray, names: tuple[str, ...], p_chronic: np.ndarray) -> dict[str, Any]:
    """The training reference of one disease model."""
    features = {}
    for j, name in enumerate(names):
        edges = _edges(matrix[:, j])
        counts = bin_counts(matrix[:, j], edges)
        features[name] = {"edges": edges, "shares": (counts / max(counts.sum(), 1)).tolist()}
    p_edges = _edges(p_chronic)
    return {
        "features": features,
        "p_chronic": {"edges": p_edges, "shares": (bin_counts(p_chronic, p_edges) / max(len(p_chronic), 1)).tolist()},
        "residents": int(len(matrix)),
    }


def psi(expected_shares: list[float], counts: np.ndarray) -> float:
    """Population stability index of observed counts against expected shares on the same bins."""
    expected = np.maximum(np.asarray(expected_shares, dtype=np.float64), EPSILON)
    actual = np.maximum(counts / max(counts.sum(), 1.0), EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift(reference_of_disease: Mapping[str, Any], counts: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per feature: PSI, the batch's missing share and the reference's."""
    out = {}
    for name, ref in reference_of_disease["features"].items():
        observed = counts[name]
        out[name] = {
            "psi": psi(ref["shares"], observed),
            "missing_share": float(observed[-1] / max(observed.sum(), 1.0)),
            "reference_missing_share": float(ref["shares"][-1]),
        }
    return out
