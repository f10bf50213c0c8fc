"""The Python API: :func:`run` one scenario and :func:`sweep` many, from a notebook or a script.

Both return the output tables as a mapping of table name to :class:`pyarrow.Table` and
write the same dataset as ``cpnsim run`` / ``cpnsim sweep`` when ``out`` is given (the
habits of Mesa's ``batch_run`` and EMA Workbench's ``perform_experiments``).  A scenario
is a TOML file, the content of one as a dict, or a :class:`sim.config.Scenario`; a sweep
spec is a file or a dict.  Bad input raises a :class:`~topology.plumbing.CpnsimError`
whose message is the one line ``cpnsim`` would print.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from topology.plumbing import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from cluster.sweeps.manifest import Format
    from cluster.sweeps.spec import SweepSpec
    from sim.config import Scenario
    from sim.engine import Engine
    from sim.run import ScenarioResult
    from sim.scenario import LoadedScenario
    from workloads.arrivals import ArrivalBatch

__all__ = ["load", "run", "run_manifest", "sweep", "with_provenance", "write_run"]

OVERRIDES = "overrides"
"""How errors in a dict of overrides name their source (``--set`` on the command line)."""


def _data_of(scenario: str | Path | Mapping[str, Any] | Scenario | None) -> tuple[dict[str, Any], str, Path | None]:
    """The raw keys of ``scenario``, the source errors name and the folder relative paths start from."""
    from sim.config import Scenario
    from sim.scenario import DEFAULT_SCENARIO, default_scenario_data
    from topology.plumbing import read_toml

    if scenario is None:
        return default_scenario_data(), DEFAULT_SCENARIO, None
    if isinstance(scenario, str | Path):
        p = Path(scenario)
        return read_toml(p, ConfigError), str(p), p.parent
    if isinstance(scenario, Scenario):
        return scenario.model_dump(mode="json", by_alias=True, exclude_none=True), "<Scenario>", None
    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario)), "<dict>", None
    raise ConfigError(f"scenario: expected a TOML file path, a dict or a Scenario, got {type(scenario).__name__}")


def load(
    scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    seed: int | None = None,
    replications: int | None = None,
) -> LoadedScenario:
    """Validate a scenario, apply overrides and resolve its network, as ``cpnsim run`` does.

    Parameters
    ----------
    scenario : str, Path, dict or Scenario, optional
        A scenario TOML file, its content as a dict (relative network paths from the working
        directory) or a :class:`sim.config.Scenario`; ``None`` is the built-in default.
    overrides : dict or list of str, optional
        ``{"key.path": value}`` (Python values), or ``["key.path=value", ...]`` as ``--set``
        takes them.
    seed : int, optional
        Replaces the scenario's root ``seed``.
    replications : int, optional
        Replaces the scenario's ``replications``.

    Returns
    -------
    LoadedScenario
        The validated scenario and its network.

    Raises
    ------
    ConfigError, TopologyError
        One line naming the source (file, ``<dict>``, ``overrides``) and the key path.

    Examples
    --------
    >>> load(overrides={"horizon_h": 48}).scenario.horizon_h
    48.0
    """
    from sim.scenario import (
        LoadedScenario,
        apply_overrides,
        load_scenario,
        override_keys,
        resolve_network,
        scenario_from_dict,
        set_key,
    )

    if (scenario is None or isinstance(scenario, str | Path)) and not isinstance(overrides, Mapping):
        words = list(overrides or [])
        if replications is not None:
            words.append(f"replications={replications!r}")
        return load_scenario(scenario, words, seed)  # exactly the path of `cpnsim run`
    data, source, base_dir = _data_of(scenario)
    scenario_from_dict(data, source)  # errors of the scenario itself name the scenario
    blame, keys = source, []
    if overrides is not None and not isinstance(overrides, Mapping):
        data, blame, keys = apply_overrides(data, list(overrides)), "--set", override_keys(list(overrides))
    settings = dict(overrides) if isinstance(overrides, Mapping) else {}
    if seed is not None:
        settings["seed"] = seed
    if replications is not None:
        settings["replications"] = replications
    if settings:
        for key, value in settings.items():
            if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
                raise ConfigError(f"{OVERRIDES}: {key!r}: expected a dotted key path such as 'sites.x.gpus'")
            set_key(data, key, value)
        blame, keys = OVERRIDES, [*keys, *settings]
    validated = scenario_from_dict(data, blame)
    # Errors found once the network is resolved name the overrides only for keys they set.
    return LoadedScenario(validated, resolve_network(validated, source, base_dir, keys, blame), source)


def with_provenance(tables: Mapping[str, pa.Table], scenario_id: str) -> dict[str, pa.Table]:
    """The tables with ``cpnsim.version`` and ``cpnsim.scenario_id`` added to each schema's metadata.

    A table's schema metadata is the file's key-value metadata in Arrow IPC and Parquet,
    where polars, DuckDB (``parquet_kv_metadata``) and pyarrow read it without cpnsim.

    Parameters
    ----------
    tables : mapping of str to pyarrow.Table
        One scenario's tables.
    scenario_id : str
        The scenario's id (also the ``scenario_id`` column).

    Returns
    -------
    dict of str to pyarrow.Table
        The same columns; metadata extended.
    """
    from cluster.version import package_version

    extra = {b"cpnsim.version": package_version().encode(), b"cpnsim.scenario_id": scenario_id.encode()}
    return {name: t.replace_schema_metadata({**(t.schema.metadata or {}), **extra}) for name, t in tables.items()}


def run_manifest(loaded: LoadedScenario, trace: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest fields of a single-scenario dataset (``kind = "run"``).

    Parameters
    ----------
    loaded : LoadedScenario
        The scenario run.
    trace : mapping, optional
        Statistics of the trace replayed instead of Poisson arrivals, if any.

    Returns
    -------
    dict
        What :func:`cluster.sweeps.store.write_dataset` takes as ``manifest``.
    """
    from cluster.sweeps.manifest import network_record

    scenario = loaded.scenario
    manifest: dict[str, Any] = {
        "kind": "run",
        "source": loaded.source,
        "scenario_id": loaded.scenario_id,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "network": loaded.network.name,
        "resolved_network": network_record(loaded.network, scenario.network),
        "scenario": scenario.model_dump(mode="json"),
    }
    if trace is not None:
        manifest["trace"] = dict(trace)
    return manifest


def check_run_out(out: Path, *, overwrite: bool) -> None:
    """Refuse ``out`` before simulating: not writable, or a dataset already there without ``overwrite``.

    Parameters
    ----------
    out : Path
        The dataset directory.
    overwrite : bool
        Whether an existing cpnsim dataset at ``out`` may be replaced.

    Raises
    ------
    ConfigError
        One line naming ``--out``, as ``cpnsim sweep`` words it.
    """
    from cluster.sweeps.manifest import is_dataset
    from cluster.sweeps.store import check_writable

    check_writable(out)
    if not overwrite and is_dataset(out):
        raise ConfigError(f"--out {out}: already holds a cpnsim dataset; pass --overwrite to replace it")


def write_run(out: Path, tables: Mapping[str, pa.Table], loaded: LoadedScenario, fmt: Format = "arrow", *,
              trace: Mapping[str, Any] | None = None) -> Path:
    """Write one scenario's tables (with provenance metadata), manifest and ``schema.json`` to ``out``.

    Everything, ``schema.json`` (:mod:`cluster.dataset_schema`) included, is written into a
    hidden staging directory beside ``out`` that is then renamed into place: the rename is
    the one commit point, so ``out`` is either the old dataset or the whole new one, and a
    failure before it leaves nothing behind.

    Parameters
    ----------
    out : Path
        The dataset directory.
    tables : mapping of str to pyarrow.Table
        From :meth:`sim.run.ScenarioResult.tables`.
    loaded : LoadedScenario
        The scenario run.
    fmt : {"arrow", "parquet"}
        Table file format.
    trace : mapping, optional
        Trace statistics for the manifest.

    Returns
    -------
    Path
        ``out``.
    """
    import secrets
    import shutil

    from cluster.dataset_schema import write_schema_json
    from cluster.sweeps.store import check_writable, write_dataset

    check_writable(out)
    stamped = with_provenance(tables, loaded.scenario_id)
    # write_dataset is atomic for the tables and manifest alone; staging the whole dataset
    # (its own rename included) lets schema.json join them before the one rename into ``out``.
    stage = out.parent / f".{out.name}.stage-{secrets.token_hex(6)}"
    try:
        write_dataset(stage, stamped, run_manifest(loaded, trace), fmt)
        write_schema_json(stage, stamped, [loaded.scenario_id])
        _replace_dir(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out


def _replace_dir(new: Path, out: Path) -> None:
    """Move the directory ``new`` to ``out``, replacing a dataset there (``os.replace`` cannot replace
    a non-empty directory, so the old one is first renamed aside, then deleted)."""
    import os
    import secrets
    import shutil

    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{secrets.token_hex(6)}"
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:  # put the previous dataset back
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def simulate(loaded: LoadedScenario, arrivals: ArrivalBatch | None = None, *,
             watch: Callable[[int, Engine], None] | None = None) -> ScenarioResult:
    """Run every replication of ``loaded`` (``arrivals`` replaces the Poisson arrivals; ``watch`` sees each engine)."""
    from sim.run import run_scenario

    return run_scenario(loaded, arrivals, watch=watch)


def run(
    scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    out: str | Path | None = None,
    *,
    seed: int | None = None,
    replications: int | None = None,
    fmt: Literal["arrow", "parquet"] = "arrow",
    overwrite: bool = False,
) -> dict[str, pa.Table]:
    """Run one scenario (every replication) and return its tables; write its dataset if ``out`` is given.

    Parameters
    ----------
    scenario : str, Path, dict or Scenario, optional
        A scenario TOML file, its content as a dict, or a :class:`sim.config.Scenario`;
        ``None`` is the built-in default (see :func:`load`).
    overrides : dict or list of str, optional
        ``{"key.path": value}`` or ``["key.path=value"]`` (``--set``).
    out : str or Path, optional
        Dataset directory to write, as ``cpnsim run --out`` writes it.
    seed : int, optional
        Root seed (replaces the scenario's).
    replications : int, optional
        Replications (replaces the scenario's).
    fmt : {"arrow", "parquet"}
        File format of the written tables.
    overwrite : bool
        Replace a cpnsim dataset already at ``out`` (refused otherwise).

    Returns
    -------
    dict of str to pyarrow.Table
        ``runs``, ``sites``, ``links``, ``timings``, and ``jobs`` / ``adoption`` when the
        scenario produces them (columns in docs/schema.md; units in field metadata).

    Raises
    ------
    ConfigError, TopologyError
        Bad scenario, overrides or ``out``; nothing is run or written.

    Examples
    --------
    >>> import cluster
    >>> tables = cluster.run(overrides={"horizon_h": 24, "metric_interval_h": 6}, seed=1)
    >>> sorted(tables)
    ['links', 'runs', 'sites', 'timings']
    >>> tables["runs"].num_rows, tables["sites"].schema.field("energy_mwh").metadata[b"unit"]
    (1, b'MWh')
    """
    loaded = load(scenario, overrides, seed=seed, replications=replications)
    target = None if out is None else Path(out)
    if target is not None:
        check_run_out(target, overwrite=overwrite)  # before simulating: a refused out costs no run
    tables = with_provenance(simulate(loaded).tables(), loaded.scenario_id)
    if target is not None:
        write_run(target, tables, loaded, fmt)
    return tables


def _spec(spec: str | Path | Mapping[str, Any]) -> SweepSpec:
    from cluster.sweeps.spec import load_sweep, spec_from_dict

    if isinstance(spec, str | Path):
        return load_sweep(spec)
    if isinstance(spec, Mapping):
        return spec_from_dict(copy.deepcopy(dict(spec)), "<dict>")
    raise ConfigError(f"spec: expected a sweep spec TOML file path or a dict, got {type(spec).__name__}")


def sweep(
    spec: str | Path | Mapping[str, Any],
    executor: Literal["serial", "ray"] = "serial",
    out: str | Path | None = None,
    *,
    fmt: Literal["arrow", "parquet"] = "arrow",
    overwrite: bool = False,
    resume: bool = False,
    num_cpus: int | None = None,
    address: str | None = None,
    batch_size: int | None = None,
) -> dict[str, pa.Table]:
    """Run every scenario of a sweep spec and return the concatenated tables; write them if ``out`` is given.

    Parameters
    ----------
    spec : str, Path or dict
        A sweep spec TOML file, or its content as a dict (a relative ``base`` file from the
        working directory).
    executor : {"serial", "ray"}
        This process, or Ray (embedded, or the cluster at ``address`` / ``$RAY_ADDRESS``).
    out : str or Path, optional
        Dataset directory, as ``cpnsim sweep --out`` writes it; without it the sweep runs
        in a temporary directory that is removed afterwards.
    fmt : {"arrow", "parquet"}
        File format of the written tables.
    overwrite, resume : bool
        Replace / continue a dataset already at ``out``.
    num_cpus : int, optional
        CPUs of an embedded Ray.
    address : str, optional
        Ray cluster to join.
    batch_size : int, optional
        Scenarios per task (default: about four tasks per CPU).

    Returns
    -------
    dict of str to pyarrow.Table
        Every table of the dataset; ``runs`` has one row per scenario and replication,
        failed scenarios as ``status = 'failed'`` rows with the error.

    Raises
    ------
    ConfigError, TopologyError
        Bad spec, executor options or ``out``; nothing is run.
    SweepInterrupted
        Ctrl-C; with ``out``, ``resume=True`` continues.

    Examples
    --------
    >>> import cluster
    >>> batch = {"arrival_rate_per_h": 20, "work_gpu_h": {"dist": "exponential", "mean": 8}}
    >>> spec = {"base": {"horizon_h": 24, "metric_interval_h": 12, "workload": {"batch": batch}},
    ...         "axis": [{"key": "policy", "grid": ["nearest", "least_loaded"]}]}
    >>> runs = cluster.sweep(spec)["runs"]
    >>> sorted(runs.column("param.policy").to_pylist())
    ['least_loaded', 'nearest']
    """
    from cluster.sweeps.executors import make_executor
    from cluster.sweeps.manifest import read_manifest
    from cluster.sweeps.run import run_sweep
    from cluster.sweeps.store import read_table

    loaded_spec = _spec(spec)
    runner = make_executor(executor, address=address, num_cpus=num_cpus)
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch_size: must be >= 1, got {batch_size}")
    with tempfile.TemporaryDirectory(prefix="cpnsim-sweep-") as scratch:
        target = Path(out) if out is not None else Path(scratch) / "dataset"
        run_sweep(loaded_spec, target, runner, fmt, resume=resume, overwrite=overwrite, batch_size=batch_size)
        return {name: read_table(target, name) for name in read_manifest(target).tables}
