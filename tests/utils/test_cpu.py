"""The CPU settings applied at import (utils/cpu.py), their switch, and the default thread count."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import paddle
import pytest

from ppcls_repro.engine import setup
from ppcls_repro.utils import cpu

REPO = Path(__file__).resolve().parents[2]


def test_available_cores_follows_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpu.available_cores() == expected >= 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_glibc_accepts_the_allocator_setting():
    assert cpu.keep_freed_memory() is True


@pytest.mark.parametrize("value, expected", [("0", "False False"), ("1", "True True"), (None, "True True")])
def test_the_switch_turns_the_fast_path_off_in_a_new_process(value, expected):
    env = {k: v for k, v in os.environ.items() if k != cpu.FAST_CPU_VARIABLE}
    if value is not None:
        env[cpu.FAST_CPU_VARIABLE] = value
    code = ("import paddle; from ppcls_repro.utils.cpu import fast_cpu_enabled; from ppcls_repro.layers import onednn; "
            "print(fast_cpu_enabled(), onednn.applies(paddle.ones([1])))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[-2] == expected


@pytest.mark.parametrize("cpu_threads, world, cores, expected", [(None, 1, 2, 2), (None, 2, 2, 1), (None, 4, 2, 1),
                                                                 (3, 1, 2, 3)])
def test_default_threads_share_the_cores_among_processes(monkeypatch, cpu_threads, world, cores, expected):
    calls = []
    monkeypatch.setattr(paddle.base.core, "set_num_threads", calls.append)
    monkeypatch.setattr(setup, "available_cores", lambda: cores)
    monkeypatch.setattr(setup, "world_size", lambda: world)
    setup.select_device("cpu", cpu_threads)
    assert calls == [expected]
