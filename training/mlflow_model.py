"""The registered model's code (MLflow models-from-code; SPEC section 7, MLflow).

``training.tracking`` logs this file as the model's ``python_model``, with the ``riskmodel`` package as its
code and the fitted model folder as its artifact; MLflow runs it when the model is loaded, anywhere the
model's requirements are installed (``mlflow models serve`` in a fresh environment included).
"""

from mlflow.models import set_model

from riskmodel.model.pyfunc import RiskModelPyfunc

set_model(RiskModelPyfunc())
