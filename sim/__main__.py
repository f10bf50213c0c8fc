"""``python -m sim [SCENARIO] [--set KEY=VALUE]... [--seed N]``: run one scenario, print its ``runs`` rows.

The simulation layer on its own, without the dataset store or the rich summary of
``cpnsim run`` (which lives in :mod:`cluster`): one JSON object per replication on stdout,
for scripts and debugging.  Bad input is one line on stderr and exit status 2, as in
``cpnsim``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.plumbing import CpnsimError


def _json_value(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the scenario and print one JSON line per replication."""
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("scenario", nargs="?", help="scenario TOML file (default: the built-in scenario)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a scenario key (repeatable)")
    parser.add_argument("--seed", type=int, help="root seed (overrides the scenario's 'seed')")
    args = parser.parse_args(argv)
    try:
        loaded = load_scenario(args.scenario, args.overrides, args.seed)
    except CpnsimError as err:
        print(f"python -m sim: error: {err}", file=sys.stderr)
        return 2
    for row in run_scenario(loaded).runs.to_pylist():
        print(json.dumps({k: _json_value(v) for k, v in row.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
