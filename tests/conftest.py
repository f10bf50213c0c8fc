"""Shared fixtures: small scenarios built in code, and a helper to run the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_cli():
    """Run ``python -m cluster ARGS`` in a subprocess, as a user would."""

    def _run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cluster", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
        )

    return _run
