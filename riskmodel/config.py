"""One typed, validated configuration object, loaded from ``configs/*.yaml``.

Guideline thresholds are *not* here: they are named constants beside their rules in
:mod:`riskmodel.rules.guidelines`. What lives here are the numbers we chose (probability cut-offs, screening
intervals, capacities, model hyper-parameters) and deployment values. Environment variables override the
deployment values only: ``RISKMODEL_TRACKING_URI``, ``RISKMODEL_STORE_URL``, ``RISKMODEL_API_KEYS``,
``RISKMODEL_HOST`` and ``RISKMODEL_PORT``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riskmodel.exceptions import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GlycaemiaConfig(_Section):
    criteria: Literal["who", "ada"] = "who"
    """``who``: WHO 1999 categories as used by CDS (IFG from 6.1); ``ada``: IFG from 5.6, HbA1c 5.7-6.4 %."""
    hba1c_prediabetes: bool = False
    """Count HbA1c 5.7-6.4 % as prediabetes (SPEC 3: 'as configurable'). Left out, it follows ``criteria``:
    on under ``ada`` (ADA Standards of Care defines the range), off under ``who`` (CDS 2020 defines no HbA1c
    prediabetes range; SPEC 13.5)."""
    high_risk_profile: Literal["cds2020", "cds2024"] = "cds2020"

    @model_validator(mode="before")
    @classmethod
    def _hba1c_follows_criteria(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("hba1c_prediabetes") is None:
            return {**data, "hba1c_prediabetes": data.get("criteria", "who") == "ada"}
        return data


class TierConfig(_Section):
    glucose_result_valid_days: int = Field(365, gt=0)
    bp_result_valid_days: int = Field(365, gt=0)
    htn_confirmation_window_days: int = Field(28, gt=0)
    """Three readings >= 140/90 on different days within this span confirm hypertension (SPEC 3)."""
    screen_cut: float = Field(0.5, gt=0, lt=1)
    """Model policy: high_risk at P(chronic) >= this, where the model carries no screen_cut of its own."""
    high_risk_threshold: float = Field(0.5, gt=0, lt=1)
    """Model policy: high_risk at P(high_risk) + P(chronic) >= this."""
    model_target_sensitivity: float = Field(0.8, gt=0, lt=1)
    """The screen_cut chosen at training time is the highest cut with at least this sensitivity."""


class ControlConfig(_Section):
    profile: Literal["bphs2017", "guideline2024"] = "bphs2017"
    """Control targets of managed patients (SPEC 4.5), named in every controlled / uncontrolled output."""


class DiabetesIntervals(_Section):
    """Days between diabetes tests (SPEC 5), by the first row that applies."""

    prediabetes: int = Field(182, gt=0)
    high_risk: int = Field(365, gt=0)
    by_age: int = Field(365, gt=0)
    other: int = Field(1095, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> DiabetesIntervals:
        if not self.prediabetes <= self.high_risk <= self.other or not self.by_age <= self.other:
            raise ValueError("diabetes screening intervals must satisfy prediabetes <= high_risk, by_age <= other")
        return self


class BloodPressureIntervals(_Section):
    """Days between BP measurements (SPEC 5), by the first row that applies."""

    high_risk_band: int = Field(182, gt=0)
    high_risk: int = Field(182, gt=0)
    by_age: int = Field(365, gt=0)
    other: int = Field(730, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> BloodPressureIntervals:
        if not self.high_risk_band <= self.high_risk <= self.other or not self.by_age <= self.other:
            raise ValueError("BP screening intervals must satisfy high_risk_band <= high_risk, by_age <= other")
        return self


class ScreeningConfig(_Section):
    diabetes_interval_days: DiabetesIntervals = DiabetesIntervals()
    bp_interval_days: BloodPressureIntervals = BloodPressureIntervals()
    bp_yearly_from_age: float = Field(35, ge=18)
    """BP yearly from this age (SPEC 5); the diabetes yearly age is the CDS profile's (40, or 35 for 2024)."""


class SeverityConfig(_Section):
    """Band 2's severity score (SPEC 6): points we chose, summed and clipped to 0-99."""

    bp_grade: tuple[float, float, float] = (20.0, 40.0, 60.0)
    """Points for the BP behind the action at grade 1, 2 and 3 (CHG 2018 grades)."""
    glucose_diabetic: float = 20.0
    """A glucose or HbA1c in the diabetes range."""
    glucose_high: float = 40.0
    """FPG or random glucose >= 11.1 mmol/L, or HbA1c >= 9 %."""
    action: dict[str, float] = {
        "refer": 15.0,
        "referral_follow_up": 10.0,
        "confirm_diagnosis": 5.0,
        "recheck_stale": 5.0,
        "first_followup": 5.0,
        "recheck": 0.0,
    }
    per_overdue_day: float = Field(0.5, ge=0)
    max_overdue: float = Field(20.0, ge=0)
    """Overdue days stop adding to priority after 90 days (SPEC 13.3), and never add more than this."""


class WorklistConfig(_Section):
    capacity: int = Field(200, gt=0)
    """Entries shared by bands 2-4 (filled in band order); band 1 (refer now) is never cut (SPEC 15)."""
    stale_batch_days: int = Field(2, ge=0)
    """A list whose published batch is more than this many days old carries a ``stale_batch`` warning."""
    severity: SeverityConfig = SeverityConfig()
    emergency_lookback_days: int = Field(30, gt=0)
    """Only readings this recent (or undated) can trigger ``refer_now``."""
    stale_task_days: int = Field(365, gt=0)
    """A task whose creating event is older than this, with nothing since, becomes ``re_engage`` (SPEC 13.3)."""
    top_features: int = Field(3, ge=0, le=10)


class DeploymentConfig(_Section):
    timezone: str = "Asia/Shanghai"
    """'Today' is the date in this time zone (SPEC 8), not the server's UTC date."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from exc
        return value

    def today(self) -> dt.date:
        """Today's date in the configured time zone."""
        return dt.datetime.now(ZoneInfo(self.timezone)).date()


class SnoozeDays(_Section):
    """How long each outcome hides the action (SPEC 6), days."""

    agreed: int = Field(7, gt=0)
    call_later: int = Field(30, gt=0)
    unreachable: int = Field(1, gt=0)
    declined: int = Field(90, gt=0)
    not_confirmed: int = Field(365, gt=0)
    """A measured diagnosis the team found not confirmed: its confirmation stops standing (SPEC 13.2)."""


class OutcomesConfig(_Section):
    snooze_days: SnoozeDays = SnoozeDays()
    done_max_days: int = Field(30, gt=0)
    """``done`` hides the action until a batch dated after it, at most this long."""
    unreachable_flag_count: int = Field(3, gt=0)
    unreachable_flag_days: int = Field(30, gt=0)
    """This many ``unreachable`` within these days flag the entry ``unreachable_3x``."""


class ContactsConfig(_Section):
    retention_days: int = Field(30, ge=0)
    """A removed resident's contact (moved, died, transferred) is deleted this many days after the removal."""


class RemindersConfig(_Section):
    clinic_name: str = Field("社区卫生服务中心", min_length=1, max_length=30)
    """Where a reminder asks the resident to come, unless ``clinics`` names the team's own."""
    clinics: dict[str, str] = {}
    """Team id -> the clinic's name in that team's reminders."""
    hide_days: int = Field(7, gt=0)
    """The outcome ``reminded`` hides the resident's reminder this many days (SPEC 15)."""

    def clinic(self, team_id: str) -> str:
        return self.clinics.get(team_id, self.clinic_name)


class IndicatorsConfig(_Section):
    prevalence: dict[str, float] = {"hypertension": 0.25, "diabetes": 0.124}
    """Estimated prevalence among adults, for 管理率's denominator (SPEC 11)."""
    targets: dict[str, float] = {
        "management_rate": 0.45,
        "standard_management_rate": 0.60,
        "control_rate": 0.60,
        "hearts_controlled": 0.50,
        "screening_coverage": 0.70,
    }
    """Targets a team is assessed against; set them to the county's own assessment targets."""
    trend_months: int = Field(12, ge=1, le=36)


class MonitoringConfig(_Section):
    """When a batch recommends retraining (SPEC 12): numbers we chose."""

    psi_threshold: float = Field(0.25, gt=0)
    top_features: int = Field(5, ge=1)
    observed_expected_range: tuple[float, float] = (0.8, 1.25)
    auroc_drop: float = Field(0.03, ge=0)
    min_positives: int = Field(20, ge=1)


class TreeSettings(_Section):
    """One candidate of the model selection: tree size, learning rate and leaf size (ours, chosen by CV)."""

    num_leaves: int = Field(ge=2)
    learning_rate: float = Field(gt=0, le=1)
    min_child_samples: int = Field(ge=1)

    def label(self) -> str:
        return f"leaves {self.num_leaves}, rate {self.learning_rate:g}, leaf size {self.min_child_samples}"


class ModelConfig(_Section):
    seed: int = 42
    test_fraction: float = Field(0.2, gt=0, lt=0.5)
    validation_fraction: float = Field(0.2, gt=0, lt=0.5)
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(15, ge=2)
    min_child_samples: int = Field(50, ge=1)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    lambda_l2: float = Field(5.0, ge=0)
    max_rounds: int = Field(2000, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    num_threads: int = Field(0, ge=0)
    """0: LightGBM's default (all cores)."""
    selection: Literal["cv", "fixed"] = "cv"
    """``cv``: choose among ``candidates`` (and the number of trees) by cross-validation on the training residents,
    refit on all of them, calibrate on out-of-fold predictions; ``fixed``: the settings above, early-stopped and
    calibrated on a validation split."""
    cv_folds: int = Field(5, ge=3, le=10)
    refit_rounds_factor: float = Field(1.1, ge=1.0, le=2.0)
    """The refit on all training residents grows the folds' mean number of trees by this factor (more data)."""
    cv_max_rows: int = Field(30_000, ge=1_000)
    """Above this many training residents, the cross-validation runs on a sample of this size (by resident)."""
    candidates: tuple[TreeSettings, ...] = ()
    """Settings cross-validation chooses among (default: the settings above plus two smaller-tree ones)."""

    def candidate_settings(self) -> tuple[TreeSettings, ...]:
        own = TreeSettings(
            num_leaves=self.num_leaves, learning_rate=self.learning_rate, min_child_samples=self.min_child_samples
        )
        return self.candidates or (
            own,
            TreeSettings(num_leaves=7, learning_rate=0.03, min_child_samples=100),
            TreeSettings(num_leaves=4, learning_rate=0.02, min_child_samples=200),
        )


class PromotionConfig(_Section):
    """The promotion gate (SPEC 12): both models measured on the challenger's evaluation residents."""

    tolerance: float = Field(0.01, ge=0)
    higher_is_better: tuple[str, ...] = ("diabetes_auroc", "hypertension_auroc")
    lower_is_better: tuple[str, ...] = ("diabetes_ece_equal_frequency", "hypertension_ece_equal_frequency")
    bootstrap_resamples: int = Field(500, ge=50, le=10_000)


class TrackingConfig(_Section):
    uri: str = "sqlite:///mlflow.db"
    experiment: str = "riskmodel"
    registered_model: str = "riskmodel"


class StoreConfig(_Section):
    url: str = "sqlite:///riskmodel.db"
    keep_batches: int = Field(3, ge=1)
    """Published batches kept; older ones are pruned, never the one served."""


class BatchConfig(_Section):
    max_rejected_share: float = Field(0.05, ge=0, le=1)
    """A batch is published only if at most this share of its rows (and of its events) was rejected (SPEC 8)."""


class ApiKey(_Section):
    """One API key's label (recorded with every outcome it writes; never the key) and teams."""

    label: str
    teams: tuple[str, ...]
    scopes: tuple[Literal["contact"], ...] = ()
    """Extra rights: ``contact`` reads residents' names, phones and addresses (SPEC 15)."""


class RateLimits(_Section):
    """API request rates (SPEC 16), counted in the serving process: over a rate is 429 with ``Retry-After``."""

    per_key_per_minute: int = Field(1200, gt=0)
    per_address_per_minute: int = Field(2400, gt=0)
    auth_failures: int = Field(20, gt=0)
    """401s from one client address within ``auth_failure_window_seconds`` before it is answered 429."""
    auth_failure_window_seconds: int = Field(600, gt=0)


class ServingConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, gt=0, lt=65536)
    api_keys: dict[str, ApiKey] = {}
    """SHA-256 hex digest of each key -> the teams it may read and write (``["*"]`` for all) and its label;
    given as a list of team ids, or as ``{"label": ..., "teams": [...]}``."""
    max_body_bytes: int = Field(2_000_000, gt=0)
    model_poll_seconds: float = Field(10.0, gt=0)
    metrics_port: int | None = Field(None, gt=0, lt=65536)
    """When set, /metrics, /readyz and /healthz are also served on this port of ``metrics_host`` and /metrics
    leaves the main port (SPEC 16)."""
    metrics_host: str = "127.0.0.1"
    limits: RateLimits = RateLimits()

    @field_validator("api_keys", mode="before")
    @classmethod
    def _digests(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError("api_keys must map SHA-256 digests to team lists or {label, teams}")
        keys: dict[str, Any] = {}
        for digest, entry in value.items():
            if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest.lower()):
                raise ValueError("api_keys must be keyed by SHA-256 hex digests (64 hex characters), never keys")
            if isinstance(entry, (list, tuple)):
                entry = {"teams": entry}
            if isinstance(entry, ApiKey):
                entry = entry.model_dump()
            keys[digest.lower()] = {
                "label": entry.get("label") or f"key-{digest.lower()[:8]}",
                "teams": entry.get("teams", ()),
                "scopes": entry.get("scopes", ()),
            }
        return keys


class SynthConfig(_Section):
    as_of: dt.date = dt.date(2026, 7, 1)
    residents_per_team: int = Field(1200, gt=0, le=1500)


class RiskConfig(_Section):
    """The whole configuration. Build it with :func:`load_config`."""

    glycaemia: GlycaemiaConfig = GlycaemiaConfig()
    tiers: TierConfig = TierConfig()
    control: ControlConfig = ControlConfig()
    screening: ScreeningConfig = ScreeningConfig()
    worklist: WorklistConfig = WorklistConfig()
    outcomes: OutcomesConfig = OutcomesConfig()
    contacts: ContactsConfig = ContactsConfig()
    reminders: RemindersConfig = RemindersConfig()
    indicators: IndicatorsConfig = IndicatorsConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    model: ModelConfig = ModelConfig()
    promotion: PromotionConfig = PromotionConfig()
    tracking: TrackingConfig = TrackingConfig()
    store: StoreConfig = StoreConfig()
    batch: BatchConfig = BatchConfig()
    serving: ServingConfig = ServingConfig()
    synth: SynthConfig = SynthConfig()
    deployment: DeploymentConfig = DeploymentConfig()

    def as_flat_dict(self) -> dict[str, Any]:
        """Flatten to ``section.key`` pairs (MLflow parameters); secrets are left out."""
        flat: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), item)
            else:
                flat[prefix] = value

        walk("", self.public_dump())
        return flat

    def public_dump(self) -> dict[str, Any]:
        """The config as JSON-ready values without secrets (SPEC 16): no API keys, URL passwords masked. What
        is logged to MLflow and saved with a model."""
        from riskmodel.redaction import redact

        dumped = self.model_dump(mode="json")
        dumped["serving"].pop("api_keys", None)
        return redact(dumped)  # type: ignore[no-any-return]


_ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "RISKMODEL_TRACKING_URI": ("tracking", "uri"),
    "RISKMODEL_STORE_URL": ("store", "url"),
    "RISKMODEL_HOST": ("serving", "host"),
    "RISKMODEL_PORT": ("serving", "port"),
}


def load_config(path: str | Path | None = None, *, environ: dict[str, str] | None = None) -> RiskConfig:
    """Load and validate a configuration file, then apply deployment overrides from the environment.

    Parameters
    ----------
    path
        A YAML file; ``None`` loads ``configs/default.yaml``. Keys left out take their defaults.
    environ
        The environment to read overrides from; ``os.environ`` when ``None``.
    """
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    env = os.environ if environ is None else environ
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) if source.exists() else None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {source}: {exc}") from exc
    if path is not None and not source.exists():
        raise ConfigError(f"config file {source} does not exist")
    data: dict[str, Any] = dict(raw or {})
    for variable, (section, key) in _ENV_OVERRIDES.items():
        if env.get(variable):
            data.setdefault(section, {})[key] = env[variable]
    if env.get("RISKMODEL_API_KEYS"):
        try:
            keys = json.loads(env["RISKMODEL_API_KEYS"])
        except json.JSONDecodeError as exc:
            raise ConfigError(f"RISKMODEL_API_KEYS is not a JSON object of digest -> team ids: {exc}") from exc
        data.setdefault("serving", {})["api_keys"] = keys
    try:
        return RiskConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"config {source}: {where}: {first['msg']}") from exc
