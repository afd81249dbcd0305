"""Checking a FHIR R4 resource with the ``fhir.resources`` R4 models (SPEC 14.2), the model's own answer, faster.

The model's verdict on a resource depends on its shape (which elements are present, nested how, each a JSON object,
list, string, number, boolean or null; and the ``resourceType``), and on each primitive value's check by its type
(an ``id`` pattern, a ``dateTime``, a ``decimal``, a ``code``...): its other checks (unknown elements, required
elements, one value of a choice, no null in a list, which datatype an element is) are checks of the shape. So the
first resource of a shape is checked by the whole model; when it is valid, the primitive type of each of its values
is kept for the shape, and a later resource of the same shape is checked value by value, by those types' own
validators (``pydantic.TypeAdapter`` of the model's annotation), a fraction of the cost of building the model
(about 0.03 against 0.17 ms an Observation). Any value a type refuses sends the resource to the whole model, whose
first error is the rejected row's path and reason, so an answer is always the model's. A shape that holds what the
walk cannot pair with a type (a contained resource, a datatype given as a string) is always checked whole.
"""

from __future__ import annotations

import threading
import types
import typing
from typing import Any

from pydantic import TypeAdapter, ValidationError

from riskmodel.interchange.fhir_mapping import READ_TYPES

VALIDATED_TYPES = READ_TYPES
"""The resource types checked by the FHIR model: those the mapping reads."""
MAX_SHAPES = 4096
"""Shapes remembered (a site's systems write a few dozen; the bound keeps a hostile input from growing memory)."""

_SHAPES: dict[tuple[Any, ...], tuple[TypeAdapter[Any], ...]] = {}
_FIELDS: dict[type, dict[str, Any]] = {}
_ADAPTERS: dict[int, tuple[Any, TypeAdapter[Any]]] = {}
_LOCK = threading.Lock()


def fhir_problem(resource: dict[str, Any]) -> tuple[str, str] | None:
    """The first problem the FHIR R4 model (``fhir.resources.R4B``, FHIR 4.3, R4-compatible) finds, as (path, reason),
    or ``None`` for a valid resource. Types riskmodel does not read are not checked."""
    kind = resource.get("resourceType")
    if kind not in VALIDATED_TYPES:
        return None
    leaves: list[Any] = []
    try:
        shape = _shape(resource, leaves)
    except RecursionError:
        return model_problem(resource)
    known = _SHAPES.get(shape)
    if known is not None and _values_valid(known, leaves):
        return None
    problem = model_problem(resource)
    if problem is None and known is None and len(_SHAPES) < MAX_SHAPES:
        _remember(shape, resource, len(leaves))
    return problem


def model_problem(resource: dict[str, Any]) -> tuple[str, str] | None:
    """The whole model's check: its first error as (path, reason), or ``None``."""
    kind = resource["resourceType"]
    try:
        _model(kind).model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if not str(part).startswith("function-"))
        return f"{kind}.{where}" if where else kind, str(first.get("msg", "invalid"))[:200]
    except (TypeError, ValueError) as error:  # a model that refuses a value outright
        return kind, str(error).splitlines()[0][:200]
    return None


def _model(kind: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(kind)


def _shape(value: Any, leaves: list[Any]) -> Any:
    """The value's shape (objects by sorted key, lists in order, a primitive by its JSON type, ``resourceType`` as
    written); its non-null primitive values are appended to ``leaves`` in the same order."""
    if isinstance(value, dict):
        return tuple(
            (key, item if key == "resourceType" and isinstance(item, str) else _shape(item, leaves))
            for key, item in sorted(value.items())
        )
    if isinstance(value, list):
        return ("[", *(_shape(item, leaves) for item in value))
    if value is not None:
        leaves.append(value)
    return type(value).__name__


def _values_valid(adapters: tuple[TypeAdapter[Any], ...], leaves: list[Any]) -> bool:
    try:
        for adapter, value in zip(adapters, leaves, strict=True):
            adapter.validate_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _remember(shape: tuple[Any, ...], resource: dict[str, Any], n_leaves: int) -> None:
    """Keep the primitive type of each value of a valid resource for its shape (where each can be told)."""
    adapters: list[TypeAdapter[Any]] = []
    if _object(resource, _model(resource["resourceType"]), adapters) and len(adapters) == n_leaves:
        with _LOCK:
            _SHAPES[shape] = tuple(adapters)


def _fields(model: type) -> dict[str, Any]:
    """A model's elements by JSON name (alias) and by field name, with their annotations."""
    found = _FIELDS.get(model)
    if found is None:
        found = {}
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            found[name] = info.annotation
            if info.alias:
                found[info.alias] = info.annotation
        _FIELDS[model] = found
    return found


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the element's type without ``None``, whether it is a list)."""
    annotation = _without_none(annotation)
    if typing.get_origin(annotation) in (list, typing.List):  # noqa: UP006
        return _without_none(typing.get_args(annotation)[0]), True
    return annotation, False


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return annotation


def _object(value: dict[str, Any], model: Any, adapters: list[TypeAdapter[Any]]) -> bool:
    fields = _fields(model)
    for key, item in sorted(value.items()):
        if key == "resourceType" and isinstance(item, str):
            continue
        if key not in fields or not _element(item, fields[key], adapters):
            return False
    return True


def _element(item: Any, annotation: Any, adapters: list[TypeAdapter[Any]]) -> bool:
    kind, repeated = _unwrap(annotation)
    if item is None:
        return True
    if isinstance(item, list) != repeated:
        return False
    return all(_one(x, kind, adapters) for x in (item if repeated else [item]))


def _one(item: Any, kind: Any, adapters: list[TypeAdapter[Any]]) -> bool:
    if item is None:
        return True
    model = kind.get_model_klass() if hasattr(kind, "get_model_klass") else None
    if isinstance(item, dict):
        resource = model is None or "resourceType" in item or model.__name__ in ("Resource", "DomainResource")
        return not resource and _object(item, model, adapters)
    if isinstance(item, list) or model is not None:
        return False
    held = _ADAPTERS.get(id(kind))
    if held is None:
        held = _ADAPTERS[id(kind)] = (kind, TypeAdapter(kind))
    adapters.append(held[1])
    return True
