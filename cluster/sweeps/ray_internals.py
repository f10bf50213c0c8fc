"""Ray internals the Ray executor leans on, kept in one place because they are private APIs.

* :func:`dead_workers` / :func:`lost_worker_error`: Ray's ``WorkerCrashedError`` names no
  worker; the GCS worker table does, so a lost batch's failed rows can say which process
  died, where, and why.
* :func:`reload_ray_auth`: Ray reads its auth settings once, at import.
* :func:`check_cluster_access`: before ``ray.init`` joins a cluster, one TCP connect and
  one authenticated GCS call, so a cluster that is not there, or refuses this driver's
  token, is one line within seconds (``ray.init`` retries for ~20 s, logs a warning a
  second and ends in a traceback).

Each degrades to a less specific message or a no-op if the private API moves.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

from topology.plumbing import ConfigError

__all__ = ["check_cluster_access", "dead_workers", "lost_worker_error", "reload_ray_auth"]

CONNECT_TIMEOUT_S = 3.0
"""Seconds :func:`check_cluster_access` waits for the cluster's GCS port to accept a connection."""
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d{1,5})$")


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


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null meanwhile: Ray's C++ client logs each failed call there."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_cluster_access(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse, in one line and within seconds, a cluster that is not reachable or refuses this driver's token.

    Only a GCS ``host:port`` address is checked (``auto``, ``ray://`` and other forms are
    left to ``ray.init``).  The auth check is one ``internal_kv_get`` through Ray's own GCS
    client, which sends the token exactly as ``ray.init`` would (``RAY_AUTH_MODE=token`` and
    ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``); any other failure of this private API is
    left to ``ray.init``.

    Parameters
    ----------
    address : str
        ``--address`` (or ``RAY_ADDRESS``).
    timeout_s : float
        Seconds for the TCP connect and for the GCS call.

    Raises
    ------
    ConfigError
        Nothing answers at ``address``, or the cluster rejects the token (missing or wrong).
    """
    match = _HOST_PORT.match(address.strip())
    if match is None:
        return
    host, port = match.group("host").strip("[]"), int(match.group("port"))
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ConfigError(f"--address {address}: no Ray cluster answers there ({exc.strerror or exc}); start one "
                          "with `ray start --head --port=...` or give the GCS address it printed") from None
    try:
        raylet: Any = importlib.import_module("ray._raylet")
        with _quiet_stderr():
            raylet.GcsClient(address=address).internal_kv_get(b"cpnsim-auth-check", None, timeout=timeout_s)
    except Exception as exc:  # a private API: only an authentication failure is ours to report
        if type(exc).__name__ != "AuthenticationError" and "InvalidAuthToken" not in str(exc):
            return
        has_token = bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"))
        if os.environ.get("RAY_AUTH_MODE", "").lower() != "token" or not has_token:
            why = ("this driver sends no token: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) "
                   "to the cluster's token")
        else:
            why = "the token in RAY_AUTH_TOKEN/RAY_AUTH_TOKEN_PATH is not the cluster's; use the one its head uses"
        raise ConfigError(f"--address {address}: the Ray cluster refused authentication; {why}") from None
