"""Regenerate the figures quoted in README.md and the example headers from the code that produces them.

A quoted figure sits in a marked span, ``<!-- fig:NAME -->text<!-- /fig -->`` (an HTML
comment is invisible in rendered Markdown; in a TOML header it is part of the comment).
Each figure comes from a *producer*: a function that runs what the text describes (load
a network, run a scenario, run a sweep and its Sobol' analysis) and returns the text of
its spans.  ::

    python docs/figures.py                 # recompute every figure and rewrite its spans
    python docs/figures.py --cheap         # only the figures that take a few seconds
    python docs/figures.py --check         # rewrite nothing; exit 1 listing the spans that drifted
    python docs/figures.py --only sobol    # one producer

Timings are the CPU time of this process (the runs are single-threaded), which is the
wall time on a quiet machine and does not grow when other work shares the cores.
``--check`` compares a timing within a factor of :data:`TIME_TOLERANCE`, every other
figure exactly.
``tests/test_figures.py`` runs the cheap producers in every test run and the rest as slow tests.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPAN = re.compile(r"<!-- fig:(?P<name>[a-z0-9-]+) -->(?P<text>.*?)<!-- /fig -->", re.DOTALL)
TIME_TOLERANCE = 3.0
"""A quoted time is stale when the measured one is more than this factor away."""


def quoted_files() -> list[Path]:
    """The files whose spans this script owns: README.md and every example scenario and sweep spec."""
    return [ROOT / "README.md", *sorted((ROOT / "examples").glob("*.toml")),
            *sorted((ROOT / "examples" / "sweeps").glob("*.toml"))]


@dataclass(frozen=True)
class Producer:
    """A computation and the spans it fills.

    Attributes
    ----------
    name : str
        For ``--only``.
    compute : callable
        Returns ``{span name: text}``.
    cheap : bool
        Takes a few seconds at most (run by the ordinary test suite).
    timings : frozenset of str
        Span names that are wall-clock times, compared within :data:`TIME_TOLERANCE`.
    """

    name: str
    compute: Callable[[], dict[str, str]]
    cheap: bool
    timings: frozenset[str] = frozenset()


def _networks() -> dict[str, str]:
    """Sites, regions and GPUs of the built-in networks the README describes."""
    from topology.load import load_network

    default, national = load_network("default"), load_network("national")
    return {
        "default-gpus": f"{sum(s.gpus for s in default.sites):,}",
        "national-sites": f"{len(national.sites)}",
        "national-regions": f"{len(national.regions)}",
        "national-gpus": f"{sum(s.gpus for s in national.sites) / 1e6:.2f} M",
    }


def _seconds(wall_s: float) -> str:
    """A time as quoted: two significant figures, in seconds."""
    return f"{wall_s:.2g} s" if wall_s < 100 else f"{wall_s:,.0f} s"


def _national_run() -> dict[str, str]:
    """CPU time of ``cpnsim run examples/national.toml`` (the simulation, every replication)."""
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    loaded = load_scenario(ROOT / "examples" / "national.toml")
    t0 = time.process_time()
    run_scenario(loaded)
    return {"national-run-s": _seconds(time.process_time() - t0)}


SENSITIVITY_SPEC = ROOT / "examples" / "sweeps" / "sensitivity-east-west.toml"


def _sobol() -> dict[str, str]:
    """The shipped Saltelli sweep run serially, then the total Sobol' indices of utilisation."""
    import tempfile

    from cluster.sensitivity import sobol_indices
    from cluster.sweeps import load_sweep, run_sweep
    from cluster.sweeps.executors import make_executor

    spec = load_sweep(SENSITIVITY_SPEC)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "sens-ew"
        run_sweep(spec, out, make_executor("serial"))
        group = sobol_indices(out, "utilisation").groups[0]
    spans = {"sens-ew-scenarios": f"{len(spec.scenarios)}",
             "sens-ew-st": ", ".join(f"{st:.2f}" for st in group.st)}
    for i, (st, conf) in enumerate(zip(group.st, group.st_conf, strict=True)):
        spans[f"sens-ew-st-{i}"] = f"{st:.2f} ± {conf:.2f}"
    return spans


NATIONAL_POLICIES = ("edwc", "least_loaded", "nearest", "cheapest", "greenest")


def _national_policies() -> dict[str, str]:
    """The header table of ``examples/national.toml``: every policy on the same jobs (seed 1, one year).

    Returns one span whose text is the table as TOML comment lines (energy cost over the
    measurement window, bundles finished, still queued at the horizon, rejected, unmet).
    """
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    lines = []
    for policy in NATIONAL_POLICIES:
        row = run_scenario(load_scenario(ROOT / "examples" / "national.toml", [f"policy={policy}"])).runs.to_pylist()[0]
        lines.append(f"#   {policy:<13} {row['cost_cny']:.3e} CNY, {row['jobs_done']:>7,} done, "
                     f"{row['jobs_queued_end']:>6,} queued at the end, {row['jobs_rejected']:>4,} rejected, "
                     f"{row['jobs_unmet']:>6,} unmet")
    return {"national-policies": "\n" + "\n".join(lines) + "\n# "}


def _validate() -> dict[str, str]:
    """CPU time of ``cpnsim validate --quick`` and of ``cpnsim validate``."""
    from sim.validation import run_validation

    spans = {}
    for quick, name in ((True, "validate-quick-s"), (False, "validate-s")):
        t0 = time.process_time()
        run_validation(quick=quick)
        spans[name] = _seconds(time.process_time() - t0)
    return spans


PRODUCERS = (
    Producer("networks", _networks, cheap=True),
    Producer("national-run", _national_run, cheap=False, timings=frozenset({"national-run-s"})),
    Producer("national-policies", _national_policies, cheap=False),
    Producer("sobol", _sobol, cheap=False),
    Producer("validate", _validate, cheap=False, timings=frozenset({"validate-quick-s", "validate-s"})),
)


def spans_in(text: str) -> dict[str, list[str]]:
    """Every span's text by figure name (a figure may be quoted more than once).

    Examples
    --------
    >>> spans_in("a <!-- fig:x -->1<!-- /fig --> b <!-- fig:x -->2<!-- /fig -->")
    {'x': ['1', '2']}
    """
    found: dict[str, list[str]] = {}
    for m in SPAN.finditer(text):
        found.setdefault(m["name"], []).append(m["text"])
    return found


def rewrite(text: str, figures: dict[str, str]) -> str:
    """``text`` with the span of every figure in ``figures`` set to its value.

    Examples
    --------
    >>> rewrite("n = <!-- fig:n -->3<!-- /fig -->", {"n": "4"})
    'n = <!-- fig:n -->4<!-- /fig -->'
    """
    def put(m: re.Match[str]) -> str:
        name = m["name"]
        return f"<!-- fig:{name} -->{figures[name]}<!-- /fig -->" if name in figures else m[0]

    return SPAN.sub(put, text)


def _number(text: str) -> float:
    m = re.search(r"[\d,]*\.?\d+", text)
    return float(m[0].replace(",", "")) if m else float("nan")


def drifted(quoted: str, now: str, *, timing: bool) -> bool:
    """Whether the quoted text no longer matches the regenerated one.

    Examples
    --------
    >>> drifted("0.40 ± 0.13", "0.43 ± 0.13", timing=False), drifted("5 s", "9 s", timing=True)
    (True, False)
    """
    if not timing:
        return quoted != now
    a, b = _number(quoted), _number(now)
    return not (a > 0 and b > 0 and max(a / b, b / a) <= TIME_TOLERANCE)


def check(producers: tuple[Producer, ...]) -> list[str]:
    """Run ``producers`` and list every quoted span that drifted (``file: name: quoted -> now``)."""
    problems: list[str] = []
    for producer in producers:
        figures = producer.compute()
        seen = set()
        for path in quoted_files():
            for name, texts in spans_in(path.read_text(encoding="utf-8")).items():
                if name not in figures:
                    continue
                seen.add(name)
                for quoted in texts:
                    if drifted(quoted, figures[name], timing=name in producer.timings):
                        problems.append(f"{path.relative_to(ROOT)}: {name}: quoted {quoted!r}, now {figures[name]!r}")
        problems += [f"{producer.name}: figure {name!r} is quoted nowhere" for name in sorted(set(figures) - seen)]
    return problems


def regenerate(producers: tuple[Producer, ...]) -> list[Path]:
    """Run ``producers`` and rewrite their spans in place; returns the files changed."""
    from topology.plumbing import write_atomic

    figures: dict[str, str] = {}
    for producer in producers:
        figures.update(producer.compute())
    changed = []
    for path in quoted_files():
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, figures)
        if new != text:
            write_atomic(path, new)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate (default) or ``--check``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a quoted figure drifted")
    parser.add_argument("--cheap", action="store_true", help="only the producers that take a few seconds")
    parser.add_argument("--only", action="append", choices=[p.name for p in PRODUCERS],
                        help="one producer (repeatable)")
    args = parser.parse_args(argv)
    chosen = tuple(p for p in PRODUCERS if (not args.cheap or p.cheap) and (not args.only or p.name in args.only))
    if args.check:
        problems = check(chosen)
        for line in problems:
            print(line)
        return 1 if problems else 0
    for path in regenerate(chosen):
        print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
