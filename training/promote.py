"""Promotion of a challenger to ``champion`` behind a metric gate (SPEC section 7, ``riskmodel promote``)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from mlflow.exceptions import MlflowException

from riskmodel.config import RiskConfig
from riskmodel.exceptions import ModelNotFoundError, PromotionRefusedError
from training.tracking import configure, version_metrics


@dataclass(frozen=True)
class GateRow:
    metric: str
    challenger: float
    champion: float
    higher_is_better: bool
    passed: bool


@dataclass(frozen=True)
class Promotion:
    name: str
    version: str
    previous_champion: str | None
    forced: bool
    gate: list[GateRow]


def gate(challenger: dict[str, float], champion: dict[str, float], config: RiskConfig) -> list[GateRow]:
    """Compare each gated metric: the challenger may be worse than the champion by at most the tolerance."""
    tolerance = config.promotion.tolerance
    rows = []
    for metric, higher in [(m, True) for m in config.promotion.higher_is_better] + [
        (m, False) for m in config.promotion.lower_is_better
    ]:
        new, old = challenger.get(metric, math.nan), champion.get(metric, math.nan)
        if math.isnan(old):
            passed = True
        elif math.isnan(new):
            passed = False
        else:
            passed = new >= old - tolerance if higher else new <= old + tolerance
        rows.append(GateRow(metric, new, old, higher, passed))
    return rows


def _alias_version(client, name: str, alias: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(config: RiskConfig, *, version: str | None = None, force: bool = False, reason: str = "") -> Promotion:
    """Move alias ``champion`` to ``version`` (default: the ``challenger``) if the gate passes, or ``force``
    with a ``reason`` (required: it is recorded on the version)."""
    if force and not reason.strip():
        raise PromotionRefusedError("a forced promotion needs a reason (--reason TEXT); it is recorded on the version")
    client = configure(config)
    name = config.tracking.registered_model
    target = version or _alias_version(client, name, "challenger")
    if target is None:
        raise ModelNotFoundError(f"no challenger version of '{name}' to promote; run 'riskmodel train' first")
    try:
        client.get_model_version(name, target)
    except MlflowException as exc:
        raise ModelNotFoundError(f"'{name}' has no version {target}") from exc
    current = _alias_version(client, name, "champion")
    rows = gate(
        version_metrics(client, name, target),
        version_metrics(client, name, current) if current and current != target else {},
        config,
    )
    failed = [row for row in rows if not row.passed]
    if failed and not force:
        raise PromotionRefusedError(
            f"version {target} is worse than champion {current} beyond the tolerance {config.promotion.tolerance} on "
            + ", ".join(f"{r.metric} ({r.challenger:.4f} vs {r.champion:.4f})" for r in failed)
            + "; use --force --reason TEXT to promote anyway"
        )
    client.set_registered_model_alias(name, "champion", target)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, target, "promoted_at", stamp)
    if force:
        client.set_model_version_tag(name, target, "forced_promotion", "true")
        client.set_model_version_tag(name, target, "forced_promotion_reason", reason or "no reason given")
        client.set_model_version_tag(
            name, target, "forced_over_failed_gate", ", ".join(r.metric for r in failed) or "none"
        )
    return Promotion(name=name, version=target, previous_champion=current, forced=force, gate=rows)
