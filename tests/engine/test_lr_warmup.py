"""Piecewise schedules with warm-up: ResNet-110's constant 0.01 start, and the linear ramp."""
import pytest

from ppcls_repro.engine.optim import Piecewise
from ppcls_repro.registry import ConfigError


def lr_at(schedule, iteration: int) -> float:
    schedule.step(iteration)
    return schedule()


def test_constant_warmup_then_the_papers_decays_at_absolute_iterations():
    schedule = Piecewise(0.1, steps_per_epoch=390, epochs=164, decay_iters=[32000, 48000],
                         warmup_iters=400, warmup_lr=0.01, warmup_mode="constant")
    expected = {0: 0.01, 399: 0.01, 400: 0.1, 31999: 0.1, 32000: 0.01, 47999: 0.01, 48000: 0.001, 63959: 0.001}
    for iteration, lr in expected.items():
        assert lr_at(schedule, iteration) == pytest.approx(lr), iteration


def test_linear_warmup_ramps_and_shifts_the_decays():
    schedule = Piecewise(0.1, steps_per_epoch=10, epochs=5, decay_iters=[20], warmup_iters=10, warmup_lr=0.0)
    assert lr_at(schedule, 5) == pytest.approx(0.05)
    assert lr_at(schedule, 29) == pytest.approx(0.1)
    assert lr_at(schedule, 30) == pytest.approx(0.01)


def test_constant_warmup_must_end_before_the_first_decay():
    with pytest.raises(ConfigError, match="warmup_iters"):
        Piecewise(0.1, steps_per_epoch=10, epochs=5, decay_iters=[20], warmup_iters=20, warmup_lr=0.01,
                  warmup_mode="constant")
