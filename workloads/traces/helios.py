"""SenseTime Helios: ``cluster_log.csv`` of one cluster (Earth, Saturn, Uranus, Venus).

Schema followed: the HeliosData release of the SC '21 paper "Characterization and
Prediction of Deep Learning Workloads in Large-Scale GPU Datacenters" (repository
``S-Lab-System-Group/HeliosData``, README "Schema and Description" of
``cluster_log.csv``): a CSV with a header row and the columns ``job_id, user, vc,
gpu_num, cpu_num, node_num, state, submit_time, start_time, end_time, duration, queue``
(some releases add ``jobname`` after ``vc``).  Columns are found by name, so either
order loads.  Times are ``YYYY-MM-DD HH:MM:SS``; ``duration`` (= end - start) and
``queue`` (= start - submit) are seconds.  ``state`` is one of ``COMPLETED``,
``CANCELLED``, ``FAILED``, ``TIMEOUT``, ``NODE_FAIL``.

Mapping: arrival = ``submit_time``; GPUs = ``gpu_num`` (0: a CPU-only job, dropped);
run time = ``duration``, or ``end_time - start_time`` when ``duration`` is empty
(neither: dropped as ``no_run_time``).  ``COMPLETED`` is ``ok``, ``CANCELLED`` is
``killed``, ``FAILED``/``TIMEOUT``/``NODE_FAIL`` are ``failed`` (as the paper counts
them).  Origin column by default: ``vc``.
"""

from __future__ import annotations

from pathlib import Path

from workloads.traces.errors import where
from workloads.traces.fields import (
    BadFieldError,
    column_index,
    csv_rows,
    is_missing,
    open_text,
    parse_datetime_s,
    parse_float,
    parse_seconds,
)
from workloads.traces.stream import JobStream, Status

__all__ = ["COLUMNS", "DEFAULT_ORIGIN_COLUMN", "read"]

COLUMNS = (
    "job_id", "user", "vc", "jobname", "gpu_num", "cpu_num", "node_num", "state",
    "submit_time", "start_time", "end_time", "duration", "queue",
)  # fmt: skip
DEFAULT_ORIGIN_COLUMN = "vc"
_NEEDED = ("gpu_num", "state", "submit_time", "start_time", "end_time", "duration")
_STATUS: dict[str, Status] = {
    "COMPLETED": "ok",
    "CANCELLED": "killed",
    "FAILED": "failed",
    "TIMEOUT": "failed",
    "NODE_FAIL": "failed",
}


def read(path: Path, stream: JobStream) -> None:
    """Feed every job of a Helios ``cluster_log.csv`` to ``stream``.

    Raises
    ------
    TraceError
        No header, a needed column missing, or (unless skipping) a malformed row.
    """
    source = str(path)
    with open_text(path) as handle:
        rows = csv_rows(handle, path)
        first = next(rows, None)
        if first is None:
            return
        header_line, header = first
        col = column_index(header, _NEEDED, path, header_line)
        for column in (stream.class_column, stream.origin_column):
            if column is not None and column not in col:
                column_index(header, (column,), path, header_line)  # raises, naming the header
        width = len(header)
        i_gpu, i_state, i_submit = col["gpu_num"], col["state"], col["submit_time"]
        i_start, i_end, i_duration = col["start_time"], col["end_time"], col["duration"]
        i_class = col[stream.class_column] if stream.class_column else None
        i_origin = col[stream.origin_column]
        for line, fields in rows:
            stream.records += 1
            if len(fields) != width:
                stream.bad_row(where(source, line, "", f"expected {width} fields, got {len(fields)}"))
                continue
            try:
                submit = parse_datetime_s(fields[i_submit], "submit_time")
                assert submit is not None
                gpus = parse_float(fields[i_gpu], "gpu_num")
                assert gpus is not None
                if gpus != int(gpus):
                    raise BadFieldError("gpu_num", f"expected a whole number of GPUs, got {fields[i_gpu]!r}")
                run_s = parse_seconds(fields[i_duration], "duration")
                if run_s is None:
                    start = parse_datetime_s(fields[i_start], "start_time", required=False)
                    end = parse_datetime_s(fields[i_end], "end_time", required=False)
                    if start is not None and end is not None:
                        if end < start:
                            raise BadFieldError("end_time", f"before start_time ({fields[i_end]} < {fields[i_start]})")
                        run_s = end - start
            except BadFieldError as bad:
                stream.bad_row(where(source, line, bad.field, bad.message))
                continue
            state = fields[i_state].strip()
            status: Status = _STATUS.get(state.upper(), "other") if not is_missing(state) else "other"
            stream.add(
                submit,
                gpus,
                run_s,
                status,
                fields[i_class].strip() if i_class is not None else None,
                fields[i_origin].strip(),
            )
