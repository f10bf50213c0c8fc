"""Ray internals the Ray executor leans on, kept in one place because they are private APIs.

* :func:`dead_workers` / :func:`lost_worker_error`: Ray's ``WorkerCrashedError`` names no
  worker; the GCS worker table does, so a lost batch's failed rows can say which process
  died, where, and why.
* :func:`reload_ray_auth`: Ray reads its auth settings once, at import.

Each degrades to a less specific message or a no-op if the private API moves.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

__all__ = ["dead_workers", "lost_worker_error", "reload_ray_auth"]


def dead_workers() -> dict[str, tuple[int, str]]:
    """Workers Ray lost (not ones it retired): worker id -> (end time in ms, description).

    Ray's WorkerCrashedError names no worker; the GCS worker table does.  A private
    Ray API, so any failure here only makes the message less specific.
    """
    try:
        from ray._private.state import state

        # Generated protobuf modules: their stubs do not cover these names.
        common_pb2: Any = importlib.import_module("ray.core.generated.common_pb2")
        gcs_pb2: Any = importlib.import_module("ray.core.generated.gcs_pb2")

        table = state._connect_and_get_accessor().get_worker_table()
        intended = {common_pb2.WorkerExitType.INTENDED_SYSTEM_EXIT, common_pb2.WorkerExitType.INTENDED_USER_EXIT}
        out: dict[str, tuple[int, str]] = {}
        for raw in table:
            w = gcs_pb2.WorkerTableData.FromString(raw)
            if w.is_alive or w.worker_type != common_pb2.WORKER or w.exit_type in intended:
                continue
            detail = w.exit_detail.split(".")[0].strip()
            out[w.worker_address.worker_id.hex()] = (
                int(w.end_time_ms),
                f"pid {w.pid} on {w.worker_address.ip_address}, worker id {w.worker_address.worker_id.hex()[:12]}"
                f" ({common_pb2.WorkerExitType.Name(w.exit_type)}: {detail})",
            )
        return out
    except Exception:  # diagnostics only (see the docstring): never let them fail the sweep
        return {}


def lost_worker_error(exc: BaseException, before: set[str], named: set[str]) -> str:
    """One line naming the lost worker.

    The latest worker lost since the sweep began (not in ``before``) and not yet named
    (``named``); failing that, the latest one named, since one dead worker can take
    several queued tasks with it.
    """
    head = f"lost worker ({type(exc).__name__}"
    for _ in range(20):  # the worker table can lag the task failure by a few ms
        dead = {k: v for k, v in dead_workers().items() if k not in before}
        if dead:
            fresh = [k for k in dead if k not in named] or list(dead)
            worker_id = max(fresh, key=lambda k: dead[k][0])
            named.add(worker_id)
            return f"{head}): {dead[worker_id][1]}"
        time.sleep(0.1)
    return f"{head}): {str(exc).splitlines()[0] if str(exc) else 'no details'}"


def reload_ray_auth() -> None:
    """Make an already imported Ray see the auth settings just put in the environment.

    Ray reads ``RAY_AUTH_MODE`` and the token once, when first imported; a program that
    imported ray before starting the embedded executor would otherwise start a cluster
    that wants the new token and a driver that has none (it retries "Unauthenticated"
    for ever).  These are the calls ``ray.init`` itself makes when it turns token auth on.
    """
    try:
        raylet: Any = importlib.import_module("ray._raylet")  # a compiled module; its stubs lack these
        raylet.Config.initialize("")
        raylet.AuthenticationTokenLoader.instance().reset_cache()
    except (ImportError, AttributeError):  # another Ray version: nothing cached to refresh
        pass
