"""One resident's prediction through LightGBM's single-row C path (issue 22).

``Booster.predict`` costs about 30 µs of Python and ctypes set-up per call whatever the number of rows; for one
row LightGBM offers ``LGBM_BoosterPredictForMatSingleRowFast``, which parses the prediction parameters once
(``...FastInit``) and then predicts a row in a few microseconds. It runs the same trees and the same output
transform (softmax for the multiclass tier models) as ``Booster.predict``: the answers are the same numbers
(``tests/riskmodel/model/test_single_row.py``). Used only for a single row; more rows go through
``Booster.predict``.
"""

from __future__ import annotations

import ctypes
import threading
import weakref

import lightgbm as lgb
import numpy as np
from lightgbm.basic import (
    _C_API_DTYPE_FLOAT64,
    _C_API_PREDICT_NORMAL,
    _C_API_PREDICT_RAW_SCORE,
    _LIB,
    _c_str,
    _safe_call,
)


class SingleRowPredictor:
    """``booster.predict(row)`` for one row of float64 features, as ``Booster.predict`` with its defaults
    (all iterations up to ``best_iteration``; probabilities, or raw scores with ``raw_score``).

    Not shareable between threads at once: a call that finds another in progress returns ``None`` and the
    caller falls back to ``Booster.predict``.
    """

    def __init__(self, booster: lgb.Booster, *, raw_score: bool = False) -> None:
        self.booster = booster  # kept alive as long as the C config that points into it
        self.num_iteration = booster.best_iteration
        self.num_features = booster.num_feature()
        predict_type = _C_API_PREDICT_RAW_SCORE if raw_score else _C_API_PREDICT_NORMAL
        config = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(predict_type),
                ctypes.c_int(0),
                ctypes.c_int(self.num_iteration),
                ctypes.c_int(_C_API_DTYPE_FLOAT64),
                ctypes.c_int32(self.num_features),
                _c_str("num_threads=1"),
                ctypes.byref(config),
            )
        )
        self._config = config
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, config)
        count = ctypes.c_int64(0)
        _safe_call(
            _LIB.LGBM_BoosterCalcNumPredict(
                booster._handle,
                ctypes.c_int(1),
                ctypes.c_int(predict_type),
                ctypes.c_int(0),
                ctypes.c_int(self.num_iteration),
                ctypes.byref(count),
            )
        )
        self._out = np.empty(count.value, dtype=np.float64)
        self._out_pointer = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64(0)
        self._lock = threading.Lock()

    def current(self, booster: lgb.Booster) -> bool:
        """Still valid for this booster (the same object, the same best iteration)."""
        return booster is self.booster and booster.best_iteration == self.num_iteration

    def predict(self, matrix: np.ndarray) -> np.ndarray | None:
        """The prediction for a (1, n_features) matrix in ``Booster.predict``'s shape: (1, n_classes) for a
        multiclass model, (1,) otherwise; ``None`` when another thread is using this predictor."""
        row = np.ascontiguousarray(matrix, dtype=np.float64).reshape(-1)
        if row.shape[0] != self.num_features:
            raise ValueError(f"expected {self.num_features} features, got {row.shape[0]}")
        if not self._lock.acquire(blocking=False):
            return None
        try:
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    self._config,
                    row.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(self._out_len),
                    self._out_pointer,
                )
            )
            out = self._out.copy()
        finally:
            self._lock.release()
        return out.reshape(1, -1) if out.shape[0] > 1 else out  # as Booster.predict shapes one row
