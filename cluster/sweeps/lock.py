"""One writer per dataset: an exclusive lock file in the output directory.

A sweep driver creates ``<out>/writer.lock`` with ``O_CREAT | O_EXCL`` (atomic on a local
or NFSv3+ filesystem) before it reads or writes anything of the dataset, and removes it
when it stops.  The file records who holds it (:class:`LockHolder`: host, pid, Ray job id,
start time and the writer id that names its part files), so a second driver is refused
with one line naming the holder.  A lock left by a driver that died (same host, pid no
longer running) is *stale*: it is reported with the command that clears it, never taken
over silently (a pid can be reused, and another host's pid cannot be checked at all).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from topology.plumbing import ConfigError

__all__ = ["LOCK", "DatasetLock", "LockHolder", "lock_refusal", "pid_alive", "ray_job_id", "read_holder_text"]

LOCK = "writer.lock"
"""Name of the lock file inside the dataset directory."""


def ray_job_id() -> str | None:
    """The Ray job this process runs as, if any: its submission id, else ``RAY_JOB_ID``.

    ``ray job submit`` hands the driver its job config (with the submission id in its
    metadata) in ``RAY_JOB_CONFIG_JSON_ENV_VAR``; a driver is otherwise not in a job.
    """
    config = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if config:
        try:
            job = json.loads(config).get("metadata", {}).get("job_submission_id")
        except (ValueError, AttributeError):
            job = None
        if isinstance(job, str) and job:
            return job
    return os.environ.get("RAY_JOB_ID") or None


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` runs on this host (or exists but belongs to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a dataset's lock.

    Attributes
    ----------
    writer : str
        Random id of the writer; its part files are named ``part-NNNNN-<writer>.<ext>``.
    host : str
        Host name of the driver.
    pid : int
        Process id of the driver on ``host``.
    ray_job_id : str or None
        The Ray job the driver ran as (:func:`ray_job_id`).
    started_utc : str
        When the lock was taken (ISO 8601, UTC, seconds).
    """

    writer: str
    host: str
    pid: int
    ray_job_id: str | None
    started_utc: str

    @classmethod
    def here(cls) -> LockHolder:
        """A new holder: this process, a fresh writer id."""
        return cls(writer=secrets.token_hex(4), host=socket.gethostname(), pid=os.getpid(),
                   ray_job_id=ray_job_id(), started_utc=datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        """``pid 12 on host h (Ray job j) since t``."""
        job = f" (Ray job {self.ray_job_id})" if self.ray_job_id else ""
        return f"pid {self.pid} on host {self.host}{job} since {self.started_utc}"

    def gone(self) -> bool:
        """True when provably not running: same host and the pid is not alive."""
        return self.host == socket.gethostname() and not pid_alive(self.pid)


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in the lock file ``path``; None if it is unreadable or half-written."""
    try:
        return read_holder_text(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def read_holder_text(text: str) -> LockHolder | None:
    """The holder a lock file's text records; None if it is half-written or not a lock."""
    try:
        data = json.loads(text)
        return LockHolder(writer=str(data["writer"]), host=str(data["host"]), pid=int(data["pid"]),
                          ray_job_id=data.get("ray_job_id"), started_utc=str(data["started_utc"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def check_unlocked(out: Path) -> None:
    """Refuse ``out`` when a writer holds (or a dead writer left) its lock.

    Raises
    ------
    ConfigError
        One line naming the holder, or saying the lock is stale and how to clear it.
    """
    path = out / LOCK
    if path.exists():
        raise lock_refusal(str(out), str(path), read_holder(path))


def lock_refusal(out: str, where: str, holder: LockHolder | None) -> ConfigError:
    """The one-line refusal of a dataset ``out`` whose lock ``where`` names ``holder`` (None: unreadable).

    Shared by the local lock file and the object-store lock object, so both say the same.
    """
    if holder is None:
        return ConfigError(f"--out {out}: locked by another sweep ({where} is unreadable); if no sweep writes "
                           f"there, delete {where} and rerun with --resume")
    if holder.gone():
        return ConfigError(f"--out {out}: stale lock left by {holder.describe()}, which is no longer running; "
                           f"if no other sweep writes there, delete {where} and rerun with --resume")
    return ConfigError(f"--out {out}: another sweep is writing to it: {holder.describe()}; wait for it to finish "
                       "or stop it (a second writer would corrupt the dataset)")


class DatasetLock:
    """The lock of one dataset directory, held by this process while it writes.

    Parameters
    ----------
    out : Path
        The dataset directory; created (with its parents) if missing.

    Attributes
    ----------
    holder : LockHolder
        This writer (its ``writer`` id names the part files it writes).
    created_dir : bool
        ``out`` did not exist before: :meth:`release` removes it again if still empty.

    Raises
    ------
    ConfigError
        Another writer holds the lock, or a dead one left it (:func:`check_unlocked`), or
        ``out`` cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "d"
    >>> lock = DatasetLock(out)
    >>> (out / LOCK).exists(), lock.release(), out.exists()
    (True, None, False)
    """

    def __init__(self, out: Path) -> None:
        self.out, self.path = out, out / LOCK
        self.holder = LockHolder.here()
        self.created_dir = not out.exists()
        try:
            out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            check_unlocked(out)
            raise ConfigError(f"--out {out}: locked by another sweep ({self.path})") from None  # released meanwhile
        except OSError as exc:
            raise ConfigError(f"--out {out}: cannot be written ({exc.strerror})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(self.holder)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._held = True

    def release(self) -> None:
        """Remove the lock if this writer still holds it (and ``out`` if this lock created it empty)."""
        if not self._held:
            return
        self._held = False
        holder = read_holder(self.path)
        if holder is not None and holder.writer == self.holder.writer:
            self.path.unlink(missing_ok=True)
        if self.created_dir:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only if empty: nothing was written
