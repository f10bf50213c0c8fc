"""Microsoft Philly: ``cluster_job_log`` (JSON).

Schema followed: the ``msr-fiddle/philly-traces`` release of the ATC '19 paper
"Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN Training Workloads"
(README "Schema", ``cluster_job_log``): a JSON array of jobs, each an object with
``status`` (``Pass``, ``Killed`` or ``Failed``), ``vc``, ``jobid``, ``user``,
``submitted_time`` and ``attempts``, a list of scheduling attempts, each with
``start_time``, ``end_time`` and ``detail``, a list of ``{"ip": server, "gpus": [gpu
names]}``.  Times are ``YYYY-MM-DD HH:MM:SS`` without a zone.  The README's notes: a job
may have no attempts; an attempt may lack ``start_time`` and/or ``end_time`` (a logging
error); a ``None`` ``end_time`` on the last attempt means the job was still running.
A file of one job object per line (JSON Lines) also loads.

Mapping: arrival = ``submitted_time``; GPUs = the largest GPU count of any attempt (the
gang the job needs); run time = the GPU-time of its attempts, Σ (``end_time`` -
``start_time``) × attempt GPUs, divided by those GPUs — for the usual job whose
attempts all have the same GPUs, the sum of its attempts' durations (time between
attempts is re-queueing, not work).  Attempts lacking a time are left out; a job with
no complete attempt, or whose last attempt has not ended, has no run time (dropped as
``no_run_time``).  ``Pass`` is ``ok``, ``Killed`` is ``killed``, ``Failed`` is ``failed``.
Origin column by default: ``vc``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workloads.traces.errors import where
from workloads.traces.fields import BadFieldError, parse_datetime_s
from workloads.traces.jsonstream import iter_values
from workloads.traces.stream import JobStream, Status

__all__ = ["COLUMNS", "DEFAULT_ORIGIN_COLUMN", "read"]

COLUMNS = ("jobid", "user", "vc", "status")  # the keys class_column / origin_column may name
DEFAULT_ORIGIN_COLUMN = "vc"
_STATUS: dict[str, Status] = {"Pass": "ok", "Killed": "killed", "Failed": "failed"}


def _text(job: dict[str, Any], key: str) -> str | None:
    value = job.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise BadFieldError(key, f"expected a string, got {value!r}")
    return str(value)


def _time(value: Any, key: str) -> float | None:
    if value is not None and not isinstance(value, str):
        raise BadFieldError(key, f"expected a time string, got {value!r}")
    return parse_datetime_s(value, key, required=False)


def _attempt_gpus(attempt: dict[str, Any], k: int) -> int:
    detail = attempt.get("detail") or []
    if not isinstance(detail, list):
        raise BadFieldError(f"attempts[{k}].detail", f"expected a list, got {detail!r}")
    total = 0
    for j, server in enumerate(detail):
        gpus = server.get("gpus") if isinstance(server, dict) else None
        if not isinstance(gpus, list):
            raise BadFieldError(f"attempts[{k}].detail[{j}].gpus", f"expected a list of GPUs, got {gpus!r}")
        total += len(gpus)
    return total


def _job(job: Any) -> tuple[float, int, float | None, Status]:
    """Submission (s), GPUs, run time (s) or None, and status of one job object."""
    if not isinstance(job, dict):
        raise BadFieldError("", f"expected a job object, got {type(job).__name__}")
    submit = _time(job.get("submitted_time"), "submitted_time")
    if submit is None:
        raise BadFieldError("submitted_time", "missing value")
    attempts = job.get("attempts") or []
    if not isinstance(attempts, list):
        raise BadFieldError("attempts", f"expected a list, got {attempts!r}")
    gpus, gpu_s, complete, last_open = 0, 0.0, 0, False
    for k, attempt in enumerate(attempts):
        if not isinstance(attempt, dict):
            raise BadFieldError(f"attempts[{k}]", f"expected an object, got {attempt!r}")
        g = _attempt_gpus(attempt, k)
        gpus = max(gpus, g)
        start = _time(attempt.get("start_time"), f"attempts[{k}].start_time")
        end = _time(attempt.get("end_time"), f"attempts[{k}].end_time")
        last_open = end is None
        if start is None or end is None:
            continue
        if end < start:
            raise BadFieldError(f"attempts[{k}].end_time", f"before start_time ({attempt['end_time']} < "
                           f"{attempt['start_time']})")
        gpu_s += g * (end - start)
        complete += 1
    raw = job.get("status")
    status: Status = _STATUS.get(raw, "other") if isinstance(raw, str) else "other"
    if complete == 0 or last_open or gpus == 0:
        return submit, gpus, (None if complete == 0 or last_open else 0.0), status
    return submit, gpus, gpu_s / gpus, status


def read(path: Path, stream: JobStream) -> None:
    """Feed every job of a Philly ``cluster_job_log`` to ``stream``.

    Raises
    ------
    TraceError
        Text that is not JSON (always), or (unless skipping) a malformed job object.
    """
    source = str(path)
    for line, job in iter_values(path):
        stream.records += 1
        try:
            submit, gpus, run_s, status = _job(job)
            class_value = _text(job, stream.class_column) if stream.class_column else None
            origin_value = _text(job, stream.origin_column) or ""
        except BadFieldError as bad:
            stream.bad_row(where(source, line, bad.field, bad.message))
            continue
        stream.add(submit, gpus, run_s, status, class_value, origin_value)
