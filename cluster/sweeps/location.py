"""Where a sweep may write: a local (or shared, mounted) directory, named so that it survives the job.

* A URI (``s3://bucket/x``, ``gs://``, ``hdfs://``) is refused with one line: the
  dataset's lock, journal and renames need a POSIX filesystem, and object stores are
  not written yet (mount the bucket, or write to shared storage and copy).  Without this
  check ``s3://bucket/x`` would become a local directory named ``s3:``.
  ``file:///abs/path`` is the local path ``/abs/path``.
* Inside a Ray job a relative path is refused: the job's working directory is Ray's
  cached copy of the uploaded working dir, so the dataset would land there, vanish with
  the cache, and be found again by the next identical job.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from cluster.sweeps.lock import ray_job_id
from topology.plumbing import ConfigError

__all__ = ["check_out_location"]

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")


def check_out_location(out: str | Path, *, job_id: str | None = None) -> Path:
    """The local directory a sweep's ``--out`` names, or a one-line refusal.

    Parameters
    ----------
    out : str or Path
        As given (``argparse`` turns ``s3://b/x`` into ``Path("s3:/b/x")``; both are seen).
    job_id : str, optional
        The Ray job this driver runs as (default: :func:`cluster.sweeps.lock.ray_job_id`).

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        A URI other than ``file://``, or a relative path inside a Ray job.

    Examples
    --------
    >>> check_out_location("file:///tmp/sweep", job_id=None), check_out_location(Path("file:///tmp/s"), job_id=None)
    (PosixPath('/tmp/sweep'), PosixPath('/tmp/s'))
    >>> check_out_location("results/x", job_id=None)
    PosixPath('results/x')
    """
    text = str(out)
    match = _URI.match(text)
    if match and len(match.group(1)) > 1:  # one letter: a Windows drive, not a scheme
        scheme = match.group(1).lower()
        collapsed = "://" not in text  # a Path made of the URI collapsed its "//" (file:///a -> file:/a)
        if collapsed:
            text = text.replace(":/", "://", 1)
        if scheme != "file":
            raise ConfigError(f"--out {text}: {scheme}:// is not supported yet (a sweep's lock, journal and atomic "
                              "renames need a POSIX filesystem); write to a local or mounted shared directory")
        path = Path(unquote(text[len("file://") - 1:] if collapsed else urlparse(text).path))
    else:
        path = Path(text)
    job = ray_job_id() if job_id is None else job_id
    if job and not path.is_absolute():
        raise ConfigError(f"--out {text}: a relative path inside Ray job {job} would land in Ray's cached copy of "
                          "the working directory (lost with it, and seen by the next identical job); give an "
                          "absolute path on storage every run can reach")
    return path
