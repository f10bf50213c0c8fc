"""Project-wide config plumbing: the one module every package may import.

Five things every loader of user input needs, kept in one place so that all of them
behave alike:

- the **error family** (:class:`CpnsimError` and its kinds): callers catch meaning, not
  strings, and the command line turns any of them into one line on stderr and exit
  status 2; messages name the file, the key path and the bad value, and suggest the
  nearest valid name (:func:`nearest`, :func:`located`);
- :class:`StrictModel`, the base of every config model (frozen, unknown keys rejected);
- :func:`read_toml`, which turns I/O and syntax errors into one located line;
- :func:`describe_validation_error`, which turns a pydantic ``ValidationError`` into
  ``file: key.path: what is wrong (did you mean ...)``;
- :func:`write_atomic`, the one atomic file writer (temporary file in the same folder,
  normal permissions, rename): a reader never sees half a file.

It lives in ``topology`` because that package is leftmost in the layering
(``topology`` <- ``workloads`` <- ``sim`` <- ``cluster``), so everyone can import it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import tomllib
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import pydantic
from pydantic import BaseModel, ConfigDict

__all__ = [
    "ConfigError",
    "CpnsimError",
    "SchemaError",
    "StrictModel",
    "TopologyError",
    "describe_validation_error",
    "escape_control",
    "format_loc",
    "located",
    "nearest",
    "read_toml",
    "valid_keys_at",
    "write_atomic",
]


class CpnsimError(Exception):
    """Base class of every error cpnsim raises for bad input or bad data."""


class ConfigError(CpnsimError):
    """A scenario, override or sweep file is malformed or names something unknown."""


class TopologyError(CpnsimError):
    """A network file is malformed or inconsistent (dangling link, duplicate id, ...)."""


class SchemaError(CpnsimError):
    """A dataset on disk does not have the columns or metadata cpnsim expects."""


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """Return the valid name closest to ``name``, or ``None`` if nothing is close.

    Examples
    --------
    >>> nearest("horizn_h", ["horizon_h", "seed"])
    'horizon_h'
    >>> nearest("zzz", ["horizon_h", "seed"]) is None
    True
    """
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def located(source: str, key: str, message: str) -> str:
    r"""Format ``message`` as one line naming where it happened.

    Control characters (a newline, a tab, an escape) in any part are written as Python
    escapes, so input can never break the line or drive the terminal.

    Parameters
    ----------
    source : str
        The file (or ``--set``) the bad value came from.
    key : str
        Dotted key path inside that source, e.g. ``workload.training.gpus``;
        empty when the whole file is at fault.
    message : str
        What is wrong, with the bad value.

    Examples
    --------
    >>> located("a.toml", "site[1].gpus", "must be > 0, got -4")
    'a.toml: site[1].gpus: must be > 0, got -4'
    >>> located("--set", "name", "bad\nline")
    '--set: name: bad\\nline'
    """
    source, key, message = escape_control(source), escape_control(key), escape_control(message)
    return f"{source}: {key}: {message}" if key else f"{source}: {message}"


def escape_control(text: str) -> str:
    r"""``text`` with every non-printable character written as its Python escape (``\n``, ``\x1b``).

    Examples
    --------
    >>> escape_control("a\tb")
    'a\\tb'
    >>> escape_control("广州 ok")
    '广州 ok'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class StrictModel(BaseModel):
    """Base of every config model: frozen, and unknown keys are errors (a typo is never ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_toml(path: Path, error: type[Exception] = ConfigError) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into one-line ``error``s.

    Parameters
    ----------
    path : Path
        The file to read.
    error : type of Exception
        The kind of error to raise (e.g. :class:`TopologyError` for a network file).

    Raises
    ------
    error
        ``file: file not found``, ``file: cannot read: ...`` or ``file: malformed TOML: ...``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(located(str(path), "", "file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(located(str(path), "", f"cannot read: {exc}")) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(located(str(path), "", f"malformed TOML: {exc}")) from None


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes | Callable[[IO[bytes]], None]) -> Path:
    """Write ``content`` to ``path`` through a temporary file in the same folder, then rename.

    The file gets the permissions of any newly created file (``0666`` less the umask), not
    the owner-only ``0600`` of :func:`tempfile.mkstemp`.  On any error, or an interrupt,
    the temporary file is removed and ``path`` keeps what it had before.

    Parameters
    ----------
    path : Path
        The file to write; its folder must exist.
    content : str, bytes or callable
        Text (written as UTF-8), bytes, or a function that writes into the open binary file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The folder does not exist or cannot be written; callers turn it into their own
        one-line error naming the option.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "hello").read_text()
    'hello'
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, str):
                handle.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                handle.write(content)
            else:
                content(handle)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def format_loc(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as ``table[2].key`` (list indices in brackets).

    A key that is not a bare TOML key (letters, digits, ``_`` and ``-``) is quoted, as
    TOML would write it, so that the path stays readable whatever the input's keys are.

    Examples
    --------
    >>> format_loc(("site", 2, "gpus"))
    'site[2].gpus'
    >>> format_loc(("workload", "a b", "gpus"))
    'workload."a b".gpus'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            shown = text if _BARE_KEY.fullmatch(text) else json.dumps(text, ensure_ascii=False)
            out += ("." if out else "") + shown
    return out


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


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
    if kind == "value_error":
        # A model validator's ValueError; "key.path: what" names a key under the model.
        message = message.removeprefix("Value error, ")
        head, sep, tail = message.partition(": ")
        if sep and _KEY_PATH.fullmatch(head):
            loc, message = (*loc, *_split_key_path(head)), tail
    if kind == "missing":
        others = sum(e["type"] == "missing" for e in errors) - 1
        more = f" (and {others} more)" if others else ""
        return located(source, format_loc(loc), f"required key is missing{more}")
    bad = first.get("input")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        # pydantic names the model class ("instance of JobClass"); the user wrote a value, not a class.
        return located(source, format_loc(loc), f"must be a table, got {_clip(repr(bad))}")
    # A whole table as the bad value would dump the file into the message: say its kind instead.
    if "input" in first and kind not in ("model_type", "dict_type", "model_attributes_type", "value_error"):
        shown = repr(bad)
        if isinstance(bad, dict) and len(shown) > _MAX_SHOWN:
            shown = f"a table of {len(bad)} keys"
        message = f"{message}, got {_clip(shown)}"
    return located(source, format_loc(loc), message)


_KEY_PATH = re.compile(r"[A-Za-z_][\w-]*(\[\d+\])*(\.[A-Za-z_][\w-]*(\[\d+\])*)*")
"""A key path such as ``segment[0].industry`` at the head of a model validator's message."""
_MAX_SHOWN = 120
"""Longest bad value shown in a message, characters."""


def _split_key_path(path: str) -> tuple[int | str, ...]:
    parts: list[int | str] = []
    for name in path.split("."):
        head, *indices = name.split("[")
        parts.append(head)
        parts.extend(int(i.rstrip("]")) for i in indices)
    return tuple(parts)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
