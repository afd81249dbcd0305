"""Multiclass probability calibration by matrix scaling on log-probabilities.

A multinomial logistic regression on the log of the booster's class probabilities (Guo et al., On
Calibration of Modern Neural Networks, ICML 2017, "matrix scaling"): 12 parameters for 3 classes, so it
holds up on a few thousand residents, keeps the ranking within a class nearly unchanged, and the outputs
sum to 1. It is fitted on residents the model will actually be applied to (no recorded diagnosis or
treatment of the disease), held out from the booster's training rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

MIN_PER_CLASS = 5
_EPS = 1e-6


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probabilities, _EPS, 1.0))


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class MatrixScaling:
    """Calibrate 3-class probabilities; identity until fitted (or when a class is too rare to fit).

    Parameters
    ----------
    regularization
        Inverse L2 strength of the logistic regression (sklearn's ``C``).
    """

    def __init__(self, *, regularization: float = 10.0) -> None:
        self.regularization = regularization

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> MatrixScaling:
        """Fit on raw class probabilities (n, 3) and integer labels 0-2."""
        counts = np.bincount(labels.astype(int), minlength=3)
        if (counts < MIN_PER_CLASS).any():
            self.coef_ = np.eye(3)
            self.intercept_ = np.zeros(3)
            self.fitted_on_ = int(len(labels))
            self.identity_ = True
            return self
        regression = LogisticRegression(C=self.regularization, max_iter=1000)
        regression.fit(_log_probabilities(probabilities), labels.astype(int))
        self.coef_ = regression.coef_.astype(np.float64)
        self.intercept_ = regression.intercept_.astype(np.float64)
        self.fitted_on_ = int(len(labels))
        self.identity_ = False
        return self

    def transform(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, rows summing to 1."""
        scores = _log_probabilities(probabilities) @ self.coef_.T + self.intercept_
        return softmax(scores)

    def to_dict(self) -> dict[str, object]:
        return {
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "fitted_on": self.fitted_on_,
            "identity": self.identity_,
        }

    @classmethod
    def from_dict(cls, state: dict[str, object]) -> MatrixScaling:
        calibrator = cls()
        calibrator.coef_ = np.asarray(state["coef"], dtype=np.float64)
        calibrator.intercept_ = np.asarray(state["intercept"], dtype=np.float64)
        calibrator.fitted_on_ = int(state["fitted_on"])  # type: ignore[call-overload]
        calibrator.identity_ = bool(state["identity"])
        return calibrator
