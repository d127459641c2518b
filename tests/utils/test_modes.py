import paddle
import pytest

from ppcls_repro.utils.modes import eval_mode


def _net() -> paddle.nn.Layer:
    return paddle.nn.Sequential(paddle.nn.Linear(4, 4), paddle.nn.Dropout(0.5))


def test_eval_mode_switches_every_sublayer_and_restores_training():
    net = _net()
    with eval_mode(net):
        assert not net.training and not net[1].training
    assert net.training and net[1].training


def test_eval_mode_leaves_an_eval_network_in_eval():
    net = _net()
    net.eval()
    with eval_mode(net):
        pass
    assert not net.training


def test_eval_mode_restores_training_when_the_block_raises():
    net = _net()
    with pytest.raises(RuntimeError):
        with eval_mode(net):
            raise RuntimeError("evaluation failed")
    assert net.training and net[1].training
