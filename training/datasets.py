"""The data a run used, as MLflow datasets: name, source, digest and counts, never rows (SPEC section 7).

Each file a run read is logged as a :class:`~mlflow.data.meta_dataset.MetaDataset` (which holds no data)
with the file's SHA-256 digest, in the context of its role (``training``, ``test``, ``local``), and the
run is named after its data. The promotion gate finds the challenger's evaluation residents again from
these records, and the digest tells it whether a file still holds what the challenger was measured on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskmodel.exceptions import InputFileError

TRAINING, TEST, LOCAL = "training", "test", "local"
_CHUNK = 1 << 20


def file_digest(path: str | Path) -> str | None:
    """The SHA-256 of a file's bytes (first 16 hex digits), or None when it is not a readable file."""
    path = Path(path)
    if not path.is_file():
        return None
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            sha.update(block)
    return sha.hexdigest()[:16]


@dataclass(frozen=True)
class RunData:
    """One role's files and how many residents they gave."""

    role: str
    paths: tuple[str, ...]
    residents: int
    rejected: int = 0

    @property
    def name(self) -> str:
        return "+".join(Path(p).stem for p in self.paths) or "none"


def run_name(kind: str, parts: Sequence[RunData]) -> str:
    """A run name that says what was used: ``train nhanes_2011_2012+nhanes_2013_2014 (10,523) · test ...``."""
    described = [f"{part.role} {part.name} ({part.residents:,})" for part in parts if part.paths]
    return f"{kind}: " + " · ".join(described) if described else kind


def log_datasets(parts: Sequence[RunData]) -> None:
    """Log each file of each part as a dataset input of the active run (no rows)."""
    import warnings

    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    for part in parts:
        for path in part.paths:
            local = Path(path)
            with warnings.catch_warnings():  # MLflow registers two local-file source classes and says so
                warnings.simplefilter("ignore", UserWarning)
                source = resolve_dataset_source(str(local.resolve()) if local.exists() else str(path))
            dataset = MetaDataset(  # type: ignore[abstract]  # a dataset without data, by design
                source=source, name=local.stem, digest=file_digest(local) or "unavailable"
            )
            tags = {"role": part.role, "files_in_role": str(len(part.paths))}
            if len(part.paths) == 1:
                tags |= {"residents": str(part.residents), "rejected": str(part.rejected)}
            else:
                tags |= {"role_residents": str(part.residents), "role_rejected": str(part.rejected)}
            mlflow.log_input(dataset, context=part.role, tags=tags)


@dataclass(frozen=True)
class LoggedFile:
    """A dataset input of a logged run: where the file was, and its digest then."""

    role: str
    path: str
    digest: str


def logged_files(run: object) -> list[LoggedFile]:
    """The files a run logged as datasets (:func:`log_datasets`), in order."""
    import json

    out = []
    for item in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []:
        tags = {tag.key: tag.value for tag in item.tags}
        try:
            source = json.loads(item.dataset.source)
        except (TypeError, ValueError):
            continue
        uri = str(source.get("uri", "")).removeprefix("file://")
        out.append(
            LoggedFile(role=tags.get("role", tags.get("mlflow.data.context", "")), path=uri, digest=item.dataset.digest)
        )
    return out


def check_unchanged(files: Sequence[LoggedFile]) -> None:
    """Raise when a logged file is missing or no longer holds what was logged."""
    for logged in files:
        now = file_digest(logged.path)
        if now is None:
            raise InputFileError(f"{logged.path}: not found here ({logged.role} data of the challenger's run)")
        if logged.digest not in ("unavailable", now):
            raise InputFileError(
                f"{logged.path}: changed since the challenger was trained (digest {now}, logged {logged.digest})"
            )
