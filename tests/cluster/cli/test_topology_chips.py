"""`cpnsim topology show` lists chip mixes; bad mixes exit 2 with one line naming file, table and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "networks" / "chips.toml"
ASCEND = '{ sku = "huawei_ascend_910", gpus = 64 }'

BROKEN = {
    "unknown_sku": (ASCEND, ASCEND.replace("910", "91"),
                    r"site\[0\]\.chips\[2\]\.sku: unknown SKU 'huawei_ascend_91' "
                    r"\(did you mean 'huawei_ascend_910'\?\)"),
    "no_throughput": (ASCEND, '{ sku = "kunlun_p800", gpus = 64, board_power_w = 400 }',
                      r"site\[0\]\.chips\[2\]\.tflops_fp16_dense: SKU 'kunlun_p800' has no throughput"),
    "zero_throughput": (ASCEND, '{ sku = "kunlun_p800", gpus = 64, board_power_w = 400, tflops_fp16_dense = 0 }',
                        r"site\[0\]\.chips\[2\]\.tflops_fp16_dense: Input should be greater than 0"),
    "no_power": (ASCEND, '{ sku = "huawei_ascend_910b", gpus = 64 }',
                 r"site\[0\]\.chips\[2\]\.board_power_w: SKU 'huawei_ascend_910b' has no published board power"),
    "sum": (ASCEND, ASCEND.replace("64", "63"),
            r"site\[0\]\.chips: the mix holds 159 GPUs .* the site's gpus is 160; they must be equal"),
    "low_above_high": ("gpus_low = 80", "gpus_low = 400", r"site\[0\]\.gpus_low: must be <= gpus .* got 400"),
    "speed_too": ("gpus = 160\n", "gpus = 160\nsku_speed = 2.0\n", r"site\[0\]\.sku_speed: set by each SKU of chips"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_bad_mix_exits_2_with_one_line(run_cli, tmp_path, case):
    old, new, pattern = BROKEN[case]
    text = EXAMPLE.read_text()
    assert text.count(old) == 1
    (tmp_path / "net.toml").write_text(text.replace(old, new))
    result = run_cli("topology", "show", "net.toml", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == ""
    assert re.fullmatch(rf"cpnsim: error: net\.toml: {pattern}.*", lines[0]), lines[0]


def test_show_lists_the_mix_of_a_mixed_site(run_cli):
    result = run_cli("topology", "show", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sites (1): chip mix" in out
    for part in ("mixed/nvidia_a100_sxm4_80gb", "mixed/nvidia_h800_sxm5_80gb", "mixed/huawei_ascend_910"):
        assert part in out
    # 64 x 312 + 32 x 989 + 64 x 256 TFLOPS = 68,000 TFLOPS = 68 PFLOPS; export-controlled (64 + 32) / 160 = 60 %.
    row = next(line for line in out.splitlines() if line.startswith("│ mixed "))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[0] == "mixed" and cells[1] == "160" and cells[3:] == ["68", "60"]


def test_show_national_says_which_mixes_are_published(run_cli):
    result = run_cli("topology", "show", "national")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sites (27): chip mix" in out
    assert "mix not published" in out
    notes = [line for line in out.splitlines() if line.startswith("published chips of ")]
    assert [n.split(":")[0] for n in notes] == ["published chips of cl_guian", "published chips of gpu_cm_harbin",
                                                "published chips of gpu_cm_hohhot"]
    assert "about 90 % domestic chips" in notes[0]
