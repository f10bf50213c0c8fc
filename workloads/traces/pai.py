"""Alibaba PAI 2020: ``pai_job_table`` joined with ``pai_task_table``.

Schema followed: ``cluster-trace-gpu-v2020`` of the ``alibaba/clusterdata`` repository
(README sections ``pai_job_table`` and ``pai_task_table``, and the ``.header`` files
beside the data).  The CSV files carry no header row; their columns are, in order,

* ``pai_job_table.csv``: ``job_name, inst_id, user, status, start_time, end_time``
  (``start_time`` is the submission time);
* ``pai_task_table.csv``: ``job_name, task_name, inst_num, status, start_time, end_time,
  plan_cpu, plan_mem, plan_gpu, gpu_type``.

A first row that starts with ``job_name`` is taken as a header and columns are then
found by name.  Times are seconds on a shifted clock (floats such as ``4550879.0``; an
empty field is no value); ``plan_gpu`` is percent of one GPU (``50.0`` is half a GPU,
``100.0`` one) per instance; job ``status`` is one of ``Running``, ``Terminated``,
``Failed``, ``Waiting`` (only ``Terminated`` succeeded).

Mapping: arrival = the job's ``start_time``; GPUs = Σ over its tasks of ``inst_num ×
plan_gpu / 100`` (0: a CPU-only job, dropped), rounded up to whole GPUs for the
simulation; run time = last task ``end_time`` - first task ``start_time``.  A job with a
task not ended, or ``Running``/``Waiting``, has no run time (dropped as
``no_run_time``); a job without task rows is dropped as ``no_tasks``; task rows of jobs
absent from the job table are ignored.  ``Terminated`` is ``ok``, ``Failed`` is
``failed``.  Origin column by default: ``user`` (PAI has no virtual clusters).
"""

from __future__ import annotations

import math
from array import array
from pathlib import Path

from workloads.traces.errors import TraceError, where
from workloads.traces.fields import BadFieldError, column_index, csv_rows, is_missing, open_text, parse_float
from workloads.traces.stream import JobStream, Status

__all__ = ["COLUMNS", "DEFAULT_ORIGIN_COLUMN", "JOB_COLUMNS", "TASK_COLUMNS", "read", "task_table_for"]

JOB_COLUMNS = ("job_name", "inst_id", "user", "status", "start_time", "end_time")
TASK_COLUMNS = (
    "job_name", "task_name", "inst_num", "status", "start_time", "end_time", "plan_cpu", "plan_mem", "plan_gpu",
    "gpu_type",
)  # fmt: skip
COLUMNS = JOB_COLUMNS  # the columns class_column / origin_column may name
DEFAULT_ORIGIN_COLUMN = "user"
_STATUS: dict[str, Status] = {"Terminated": "ok", "Failed": "failed", "Running": "unfinished", "Waiting": "unfinished"}


def task_table_for(path: Path) -> tuple[Path, Path]:
    """The job and task tables of ``path``: a directory holding both, or the job table.

    The task table of a job table file is the file beside it with ``job_table`` in its
    name replaced by ``task_table`` (``pai_task_table.csv`` for ``pai_job_table.csv``).
    """
    if path.is_dir():
        job, task = path / "pai_job_table.csv", path / "pai_task_table.csv"
    elif "job_table" in path.name:
        job, task = path, path.with_name(path.name.replace("job_table", "task_table"))
    else:
        job, task = path, path.parent / "pai_task_table.csv"
    for table in (job, task):
        if not table.is_file():
            raise TraceError(f"{table}: no such file (a PAI trace needs pai_job_table.csv and pai_task_table.csv)")
    return job, task


class _Tasks:
    """Per-job totals of the task table: GPUs, first start, last end (flat arrays)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.gpus = array("d")
        self.first_start = array("d")
        self.last_end = array("d")
        self.unfinished = bytearray()

    def add(self, job: str, gpus: float, start: float | None, end: float | None) -> None:
        i = self.index.get(job)
        if i is None:
            i = self.index[job] = len(self.gpus)
            self.gpus.append(0.0)
            self.first_start.append(math.inf)
            self.last_end.append(-math.inf)
            self.unfinished.append(0)
        self.gpus[i] += gpus
        if start is not None and start < self.first_start[i]:
            self.first_start[i] = start
        if end is None:
            self.unfinished[i] = 1
        elif end > self.last_end[i]:
            self.last_end[i] = end


def _layout(fields: list[str], default: tuple[str, ...], path: Path, line: int) -> tuple[dict[str, int], bool]:
    """Column positions, and whether the first row was a header."""
    if fields and fields[0].strip() == "job_name":
        return column_index(fields, default, path, line), True
    return {name: i for i, name in enumerate(default)}, False


def _read_tasks(path: Path, stream: JobStream) -> _Tasks:
    tasks = _Tasks()
    source = str(path)
    with open_text(path) as handle:
        col: dict[str, int] | None = None
        width = len(TASK_COLUMNS)
        for line, fields in csv_rows(handle, path):
            if col is None:
                col, is_header = _layout(fields, TASK_COLUMNS, path, line)
                width = len(fields) if is_header else width
                if is_header:
                    continue
            if len(fields) != width:
                stream.bad_row(where(source, line, "", f"expected {width} fields, got {len(fields)}"))
                continue
            try:
                inst = parse_float(fields[col["inst_num"]], "inst_num")
                plan_gpu = parse_float(fields[col["plan_gpu"]], "plan_gpu", required=False) or 0.0
                start = parse_float(fields[col["start_time"]], "start_time", required=False)
                end = parse_float(fields[col["end_time"]], "end_time", required=False)
                if start is not None and end is not None and end < start:
                    raise BadFieldError("end_time", f"before start_time ({fields[col['end_time']]} < "
                                   f"{fields[col['start_time']]})")
            except BadFieldError as bad:
                stream.bad_row(where(source, line, bad.field, bad.message))
                continue
            assert inst is not None
            job = fields[col["job_name"]].strip()
            if not job:
                stream.bad_row(where(source, line, "job_name", "missing value"))
                continue
            tasks.add(job, inst * plan_gpu / 100.0, start, end)
    return tasks


def read(path: Path, stream: JobStream) -> None:
    """Feed every job of a PAI trace (``path``: see :func:`task_table_for`) to ``stream``.

    The task table is read first and reduced to per-job totals; the job table is then
    streamed row by row.

    Raises
    ------
    TraceError
        A table missing, or (unless skipping) a malformed row.
    """
    job_path, task_path = task_table_for(path)
    tasks = _read_tasks(task_path, stream)
    source = str(job_path)
    with open_text(job_path) as handle:
        col: dict[str, int] | None = None
        width = len(JOB_COLUMNS)
        i_class = i_origin = 0
        for line, fields in csv_rows(handle, job_path):
            if col is None:
                col, is_header = _layout(fields, JOB_COLUMNS, job_path, line)
                width = len(fields) if is_header else width
                i_class = col[stream.class_column] if stream.class_column else -1
                i_origin = col[stream.origin_column]
                if is_header:
                    continue
            stream.records += 1
            if len(fields) != width:
                stream.bad_row(where(source, line, "", f"expected {width} fields, got {len(fields)}"))
                continue
            try:
                submit = parse_float(fields[col["start_time"]], "start_time")
            except BadFieldError as bad:
                stream.bad_row(where(source, line, bad.field, bad.message))
                continue
            assert submit is not None
            raw_status = fields[col["status"]].strip()
            status: Status = _STATUS.get(raw_status, "other") if not is_missing(raw_status) else "other"
            i = tasks.index.get(fields[col["job_name"]].strip())
            if i is None:
                stream.first_submit_s = min(stream.first_submit_s, submit)
                stream.dropped["no_tasks"] += 1
                continue
            first, last = tasks.first_start[i], tasks.last_end[i]
            run_s: float | None = None
            if status != "unfinished" and not tasks.unfinished[i] and math.isfinite(first) and math.isfinite(last):
                run_s = last - first
                if run_s < 0:
                    stream.bad_row(where(source, line, "", "its tasks end before they start"))
                    continue
            stream.add(
                submit,
                tasks.gpus[i],
                run_s,
                status,
                fields[i_class].strip() if i_class >= 0 else None,
                fields[i_origin].strip(),
            )
