from pathlib import Path

import pytest

from ppcls_repro.config import load_config
from ppcls_repro.deploy.benchmark import Timing, photograph
from ppcls_repro.papers.sr.speed import SpeedEntry, SpeedRow, format_speed_table, measure_sr_speed
from ppcls_repro.registry import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def entry(config: str, *overrides: str) -> SpeedEntry:
    return SpeedEntry(name=config, cfg=load_config(CONFIGS / f"{config}.yaml", list(overrides)))


def test_each_network_gets_its_own_pipeline_input_and_paper_cost():
    rows = measure_sr_speed([entry("srcnn"), entry("fsrcnn_s_x3")], photograph(24), warmup=0, repeats=2)
    srcnn, fsrcnn_s = rows
    # SRCNN sees the bicubic-upscaled image, FSRCNN the LR image itself
    assert srcnn.input_shape == (1, 1, 72, 72) and fsrcnn_s.input_shape == (1, 1, 24, 24)
    assert srcnn.multiply_adds == 8032 * 72 * 72 and fsrcnn_s.multiply_adds == 3937 * 24 * 24
    assert [len(r.timing.seconds) for r in rows] == [2, 2] and min(rows[0].timing.seconds) > 0


def test_networks_of_different_scales_are_refused():
    with pytest.raises(ConfigError, match="different factors"):
        measure_sr_speed([entry("fsrcnn_s_x3"), entry("fsrcnn_s_x2")], photograph(16), warmup=0, repeats=1)


def test_a_classifier_is_refused_by_name():
    with pytest.raises(ConfigError, match="resnet20_mnist: .* is not a super-resolution network"):
        measure_sr_speed([entry("resnet20_mnist")], photograph(16), warmup=0, repeats=1)


def test_table_ratios_are_against_the_first_row():
    rows = [SpeedRow("slow", None, (1, 1, 9, 9), 900, Timing("slow", [0.4, 0.2, 0.3])),
            SpeedRow("fast", None, (1, 1, 3, 3), 100, Timing("fast", [0.05, 0.1, 0.1]))]
    header, slow, fast = format_speed_table(rows)
    assert header.split()[-3:] == ["speed-up", "MAC", "ratio"]
    assert fast.split()[-2:] == ["3.0", "9.0"]  # median 300 ms / 100 ms; 900 / 100 multiply-adds
    assert slow.split()[-2:] == ["1.0", "1.0"]
