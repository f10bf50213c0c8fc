"""Where a sweep may write: a local (or shared, mounted) directory, or a pyarrow filesystem URI.

* ``s3://bucket/x``, ``gs://``, ``hdfs://`` (any scheme but ``file``) is opened with
  :func:`pyarrow.fs.FileSystem.from_uri` and written as an object-store dataset
  (:class:`cluster.sweeps.objectstore.ObjectStorage`); pyarrow's own error, if it cannot
  open it, is one line.  ``file:///abs/path`` is the local path ``/abs/path``.  Without
  this, ``s3://bucket/x`` would become a local directory named ``s3:``.
* Inside a Ray job a relative path is refused: the job's working directory is Ray's
  cached copy of the uploaded working dir, so the dataset would land there, vanish with
  the cache, and be found again by the next identical job.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from cluster.sweeps.lock import ray_job_id
from topology.plumbing import ConfigError

if TYPE_CHECKING:
    from cluster.sweeps.objectstore import ObjectStorage

__all__ = ["check_out_location", "object_storage", "uri_of"]

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")


def uri_of(out: str | Path) -> tuple[str, str] | None:
    """``(scheme, uri)`` when ``out`` is a URI (a ``Path`` that collapsed ``//`` restored), else None.

    Examples
    --------
    >>> uri_of(Path("s3://b/x")), uri_of("C:/data"), uri_of("results/x")
    (('s3', 's3://b/x'), None, None)
    """
    text = str(out)
    match = _URI.match(text)
    if not match or len(match.group(1)) == 1:  # one letter: a Windows drive, not a scheme
        return None
    if "://" not in text:  # a Path made of the URI collapsed its "//" (file:///a -> file:/a)
        text = text.replace(":/", "://", 1)
    return match.group(1).lower(), text


def object_storage(out: str | Path) -> ObjectStorage | None:
    """The object-store dataset ``out`` names (a URI other than ``file://``), else None."""
    found = uri_of(out)
    if found is None or found[0] == "file":
        return None
    from cluster.sweeps.objectstore import ObjectStorage

    return ObjectStorage(found[1])


def check_out_location(out: str | Path, *, job_id: str | None = None) -> Path | ObjectStorage:
    """The local directory or object-store dataset a sweep's ``--out`` names, or a one-line refusal.

    Parameters
    ----------
    out : str or Path
        As given (``argparse`` turns ``s3://b/x`` into ``Path("s3:/b/x")``; both are seen).
    job_id : str, optional
        The Ray job this driver runs as (default: :func:`cluster.sweeps.lock.ray_job_id`).

    Returns
    -------
    Path or ObjectStorage
        A local path; or, for ``s3://``, ``gs://``, ``hdfs://``, ..., the dataset opened
        through :func:`pyarrow.fs.FileSystem.from_uri` (nothing is read or written yet).

    Raises
    ------
    ConfigError
        A URI pyarrow cannot open, or a relative path inside a Ray job.

    Examples
    --------
    >>> check_out_location("file:///tmp/sweep", job_id=None), check_out_location(Path("file:///tmp/s"), job_id=None)
    (PosixPath('/tmp/sweep'), PosixPath('/tmp/s'))
    >>> check_out_location("results/x", job_id=None)
    PosixPath('results/x')
    """
    found = uri_of(out)
    text = str(out) if found is None else found[1]
    if found is not None and found[0] != "file":
        remote = object_storage(text)
        assert remote is not None
        return remote
    if found is not None:
        collapsed = "://" not in str(out)
        path = Path(unquote(str(out)[len("file:") :] if collapsed else urlparse(text).path))
    else:
        path = Path(text)
    job = ray_job_id() if job_id is None else job_id
    if job and not path.is_absolute():
        raise ConfigError(f"--out {text}: a relative path inside Ray job {job} would land in Ray's cached copy of "
                          "the working directory (lost with it, and seen by the next identical job); give an "
                          "absolute path on storage every run can reach")
    return path
