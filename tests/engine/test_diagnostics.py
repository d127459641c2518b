from pathlib import Path

import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.diagnostics import count_dead_units
from ppcls_repro.papers.sr.srcnn import SRCNN
from ppcls_repro.registry import ConfigError

SRCNN_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "srcnn.yaml"


def test_a_unit_silenced_by_its_bias_is_counted(srcnn_overrides, tmp_path):
    paddle.seed(0)
    net = SRCNN(scale=3, init="kaiming")
    # positive first-layer weights on positive images: every first-layer unit fires somewhere
    net.conv1.weight.set_value(net.conv1.weight.abs())
    cfg = load_config(SRCNN_CONFIG, srcnn_overrides + [f"Global.pretrained_model={tmp_path / 'w'}"])
    paddle.save(net.state_dict(), str(tmp_path / "w.pdparams"))
    assert count_dead_units(cfg)["layer 1"] == (0, 64)
    bias = net.conv1.bias.numpy()
    bias[5] = -1e3  # pre-activation below zero everywhere: unit 5 can never fire
    net.conv1.bias.set_value(bias)
    paddle.save(net.state_dict(), str(tmp_path / "w.pdparams"))
    dead = count_dead_units(cfg)
    assert dead["layer 1"] == (1, 64) and dead["layer 2"][1] == 32


def test_weights_are_required(srcnn_overrides):
    with pytest.raises(ConfigError, match="Global.pretrained_model"):
        count_dead_units(load_config(SRCNN_CONFIG, srcnn_overrides))
