"""Turn a pydantic ``ValidationError`` into one readable line.

Shared by every loader of user-written TOML (networks here, scenarios in ``sim``), so
that all of them report ``file: key.path: what is wrong (did you mean ...)`` alike.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pydantic

from topology.errors import located, nearest

__all__ = ["describe_validation_error", "format_loc"]


def format_loc(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as ``table[2].key`` (list indices in brackets).

    Examples
    --------
    >>> format_loc(("site", 2, "gpus"))
    'site[2].gpus'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _field_names(annotation: Any, value: Any) -> list[str] | None:
    """Valid keys of the model that ``annotation`` describes for this ``value``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _field_names(typing.get_args(annotation)[0], value)
    if origin in (typing.Union, types.UnionType):
        # A discriminated union: pick the member whose tag matches the input.
        for member in typing.get_args(annotation):
            names = _field_names(member, value)
            if names is None:
                continue
            if isinstance(value, dict) and _tag_matches(member, value):
                return names
        return None
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return list(annotation.model_fields)
    return None


def _tag_matches(model: Any, value: dict[str, Any]) -> bool:
    if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        return False
    for name, field in model.model_fields.items():
        args = typing.get_args(field.annotation)
        if typing.get_origin(field.annotation) is typing.Literal and name in value:
            return value[name] in args
    return False


def _child(annotation: Any, key: int | str, value: Any) -> Any:
    """The annotation of ``annotation[key]``: walks models, dicts, lists and unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _child(typing.get_args(annotation)[0], key, value)
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            if isinstance(value, dict) and _tag_matches(member, value):
                return _child(member, key, value)
        for member in typing.get_args(annotation):
            found = _child(member, key, value)
            if found is not None:
                return found
        return None
    if origin in (dict, typing.Mapping) or annotation is dict:
        args = typing.get_args(annotation)
        return args[1] if args else None
    if origin in (list, tuple, typing.Sequence):
        args = typing.get_args(annotation)
        return args[0] if args else None
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        field = annotation.model_fields.get(str(key))
        return field.annotation if field else None
    return None


def valid_keys_at(root: type[pydantic.BaseModel], data: Any, loc: tuple[int | str, ...]) -> list[str] | None:
    """The keys a table at ``loc`` accepts, or ``None`` when that is not a model."""
    annotation: Any = root
    value = data
    for part in loc:
        annotation = _child(annotation, part, value)
        if annotation is None:
            return None
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = None
    return _field_names(annotation, value)


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _union_members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return ()


def _drop_union_tags(root: type[pydantic.BaseModel], data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Remove the member tags pydantic puts in the location of a tagged-union error.

    ``workload.batch.work_gpu_h.lognormal.sigma`` names no key ``lognormal`` in the
    file; the user's key path is ``workload.batch.work_gpu_h.sigma``.
    """
    annotation: Any = root
    value = data
    out: list[int | str] = []
    for part in loc:
        members = _union_members(annotation)
        if (
            members
            and isinstance(value, dict)
            and isinstance(part, str)
            and value.get(_tag_key(members) or "") == part
            and any(_tag_matches(m, value) for m in members)
        ):
            annotation = next(m for m in members if _tag_matches(m, value))
            continue
        out.append(part)
        annotation = _child(annotation, part, value) if annotation is not None else None
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = None
    return tuple(out)


def _tag_key(members: tuple[Any, ...]) -> str | None:
    for member in members:
        if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
            for name, field in member.model_fields.items():
                if typing.get_origin(field.annotation) is typing.Literal:
                    return name
    return None


def describe_validation_error(
    err: pydantic.ValidationError,
    source: str,
    root: type[pydantic.BaseModel],
    data: Any,
) -> str:
    """One line for the first error in ``err``, naming ``source`` and the key path.

    Parameters
    ----------
    err : pydantic.ValidationError
        The error pydantic raised while validating ``data`` as ``root``.
    source : str
        The file the data came from.
    root : type of pydantic.BaseModel
        The model ``data`` was validated as (used to suggest valid key names).
    data : Any
        The raw input, used to show the bad value.
    """
    errors = err.errors(include_url=False)
    # An unknown key explains a "missing" one next to it (a misspelt name), so say it first.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = _drop_union_tags(root, data, tuple(first["loc"]))
    kind = first["type"]
    if kind == "extra_forbidden":
        parent, bad = loc[:-1], str(loc[-1])
        keys = valid_keys_at(root, data, parent) or []
        hint = nearest(bad, keys)
        suggestion = f" (did you mean '{hint}'?)" if hint else ""
        valid = f"; valid keys: {', '.join(keys)}" if keys and not hint else ""
        return located(source, format_loc(loc), f"unknown key{suggestion}{valid}")
    message = str(first["msg"])
    if kind == "missing":
        siblings = [e for e in errors if e["type"] == "missing"]
        if len(siblings) > 1:
            return located(source, format_loc(loc), f"required key is missing (and {len(siblings) - 1} more)")
    if kind == "missing":
        return located(source, format_loc(loc), "required key is missing")
    if "input" in first and kind not in ("model_type", "dict_type", "model_attributes_type"):
        message = f"{message}, got {first['input']!r}"
    return located(source, format_loc(loc), message)
