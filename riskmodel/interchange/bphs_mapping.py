"""The BPHS 2017 forms' columns (SPEC 14.4), from ``configs/bphs_forms.yaml``: which form a file is, which column a
header names, and what a cell means.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riskmodel.exceptions import ConfigError
from riskmodel.interchange.settings import CONFIGS

ID_CARD_SALT_ENV = "RISKMODEL_ID_CARD_SALT"
"""Overrides ``id_card_salt`` of the mapping file, so that a site's salt need not be written in a file."""
TYPES = ("text", "date", "number", "int", "choice", "tokens", "drugs", "bp")
_SPLIT = re.compile(r"[、，,;；/\s]+")
_BRACKETS = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_NO_DRUG = frozenset({"无", "未用药", "未服药", "不服药"})


def normalise_header(text: str) -> str:
    """A header as compared: no spaces, no unit in brackets, upper case (``收缩压 (mmHg)`` is ``收缩压``)."""
    return _BRACKETS.sub("", str(text)).replace(" ", "").replace("\u3000", "").strip().upper()


@dataclass(frozen=True)
class FormSpec:
    key: str
    title: str
    kind: str | None
    disease: str | None
    date: str | None
    signature: tuple[str, ...]
    excludes: tuple[str, ...]


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    headers: tuple[str, ...]
    type: str
    values: dict[str, Any] = field(default_factory=dict)
    true_tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormsMapping:
    forms: dict[str, FormSpec]
    columns: dict[str, ColumnSpec]
    id_card_salt: str | None

    def column_of(self, header: str) -> str | None:
        """The column key a header names, or ``None`` for a header the mapping does not know."""
        wanted = normalise_header(header)
        for spec in self.columns.values():
            if wanted in (normalise_header(h) for h in spec.headers):
                return spec.key
        return None

    def detect(self, headers: list[str], title: str | None = None) -> FormSpec | None:
        """The form whose title is ``title``, else the one whose signature headers are all present (and none of
        its excluded ones); ``None`` when no form or more than one fits."""
        if title:
            for form in self.forms.values():
                if normalise_header(form.title) == normalise_header(title):
                    return form
        names = {normalise_header(h) for h in headers}
        fits = [
            form
            for form in self.forms.values()
            if all(normalise_header(h) in names for h in form.signature)
            and not any(normalise_header(h) in names for h in form.excludes)
        ]
        return fits[0] if len(fits) == 1 else None


def load_forms_mapping(path: str | Path | None = None) -> FormsMapping:
    """Read ``configs/bphs_forms.yaml`` (or ``path``); a wrong entry stops with one line naming it."""
    path = Path(path) if path is not None else CONFIGS / "bphs_forms.yaml"
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read the forms mapping ({type(error).__name__})") from None
    forms = {}
    for key, spec in (values.get("forms") or {}).items():
        forms[key] = FormSpec(
            key,
            str(spec["title"]),
            spec.get("kind"),
            spec.get("disease"),
            spec.get("date"),
            tuple(spec.get("signature") or ()),
            tuple(spec.get("excludes") or ()),
        )
    columns = {}
    for key, spec in (values.get("columns") or {}).items():
        kind = spec.get("type", "text")
        if kind not in TYPES:
            raise ConfigError(f"{path}: column {key}: type must be one of {', '.join(TYPES)}, not {kind!r}")
        if kind == "choice" and not spec.get("values"):
            raise ConfigError(f"{path}: column {key}: a choice needs its values")
        columns[key] = ColumnSpec(
            key,
            tuple(str(h) for h in spec.get("headers") or ()),
            kind,
            {str(k): v for k, v in (spec.get("values") or {}).items()},
            tuple(spec.get("true_tokens") or ()),
        )
    salt = os.environ.get(ID_CARD_SALT_ENV) or values.get("id_card_salt")
    return FormsMapping(forms, columns, str(salt) if salt else None)


class CellError(ValueError):
    """A cell that is not what its column holds (the message names no resident's value beyond the cell's own)."""


def parse_date(text: str) -> dt.date:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305 (or an Excel date written as 2024-03-05 00:00:00)."""
    cleaned = text.strip().split(" ")[0].split("T")[0]
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", cleaned) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", cleaned
    )
    if not match:
        raise CellError("not a date (YYYY-MM-DD)")
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError("not a calendar date") from None


def parse_cell(spec: ColumnSpec, text: str) -> Any:
    """A non-empty cell's value for its column; :class:`CellError` when it is not one."""
    if spec.type == "text":
        return text
    if spec.type == "date":
        return parse_date(text)
    if spec.type in ("number", "int"):
        try:
            number = float(text)
        except ValueError:
            raise CellError("not a number") from None
        if spec.type == "int" and number != int(number):
            raise CellError("not a whole number")
        return number
    if spec.type == "choice":
        if text not in spec.values:
            raise CellError(f"{text!r} is not one of {'/'.join(spec.values)}")
        return spec.values[text]
    if spec.type == "tokens":
        return any(token in spec.true_tokens for token in _SPLIT.split(text))
    if spec.type == "drugs":
        return text not in _NO_DRUG
    parts = re.split(r"\s*/\s*", text)  # bp
    try:
        sbp, dbp = (float(p) for p in parts)
    except ValueError:
        raise CellError("not a blood pressure (收缩压/舒张压, e.g. 135/85)") from None
    return (sbp, dbp)


def pseudonymous_id(id_card: str, salt: str | None) -> str:
    """The resident_id of a row known only by its 身份证号: a keyed hash, never the number itself."""
    number = id_card.strip().upper()
    if not _ID_CARD.fullmatch(number):
        raise CellError("not an 18-character ID card number")
    if not salt:
        raise CellError(
            f"an ID card number needs id_card_salt (configs/bphs_forms.yaml or {ID_CARD_SALT_ENV}) "
            "to become a pseudonymous resident_id; riskmodel never stores the number"
        )
    return "sfz-" + hmac.new(salt.encode(), number.encode(), hashlib.sha256).hexdigest()[:20]
