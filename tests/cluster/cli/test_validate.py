"""``cpnsim validate`` in a subprocess: the quick checks pass, bad options exit 2."""

import json


def test_validate_quick_json_passes(run_cli):
    result = run_cli("validate", "--quick", "--json", "--replications", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)
    assert {"name", "expected", "observed", "ci_low", "ci_high", "pass", "unit"} <= set(checks[0])
    names = " ".join(c["name"] for c in checks)
    for c in (1, 8, 64):
        assert f"erlang_c_wait c={c} " in names
    assert "little_law" in names and "conservation jobs" in names
    assert all(c["pass"] for c in checks)


def test_validate_rejects_bad_options(run_cli):
    result = run_cli("validate", "--replications", "1")
    assert result.returncode == 2 and "--replications" in result.stderr
