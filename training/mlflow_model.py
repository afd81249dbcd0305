"""The registered model's code (MLflow models-from-code; SPEC section 7, MLflow).

``training.tracking`` logs this file as the model's ``python_model``, with the ``riskmodel`` package as its
code and the fitted model folder as its artifact; MLflow runs it when the model is loaded, anywhere the
model's requirements are installed (``mlflow models serve`` in a fresh environment included). It imports
only MLflow and the shipped ``riskmodel`` package.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from riskmodel.pyfunc import ARTIFACT_NAME, parse_as_of, score_records


class RiskModelPyfunc(PythonModel):  # type: ignore[misc]
    """The MLflow pyfunc: loads the model folder among the artifacts and scores through :func:`score_records`."""

    def load_context(self, context: Any) -> None:
        from riskmodel.model.tier_model import RiskModel

        self._model = RiskModel.load(context.artifacts[ARTIFACT_NAME])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        model = self._model
        as_of = parse_as_of((params or {}).get("as_of"), model.config.deployment.today())
        records = model_input.to_dict(orient="records") if isinstance(model_input, pd.DataFrame) else list(model_input)
        return score_records(records, model, as_of=as_of)


set_model(RiskModelPyfunc())
