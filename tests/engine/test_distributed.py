"""Data-parallel training: the sharding and regathering logic on its own, and a real two-process
run on CPU (gloo) through ``paddle.distributed.launch`` and the project's tools/train.py."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.data.mnist import write_idx
from ppcls_repro.engine.distributed import ShardedBatchSampler, gather_in_order, interleave
from ppcls_repro.engine.setup import SeededBatchSampler
from ppcls_repro.engine.scoring import evaluate

REPO = Path(__file__).resolve().parents[2]


class Sized:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


def shards(n: int, replicas: int, batch: int, drop_last: bool = False) -> list[np.ndarray]:
    out = []
    for rank in range(replicas):
        sampler = ShardedBatchSampler(Sized(n), batch, shuffle=True, drop_last=drop_last, seed=5,
                                      num_replicas=replicas, rank=rank)
        sampler.set_epoch(2)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        out.append(np.concatenate(batches) if batches else np.zeros(0, int))
    return out


def test_shards_cover_every_sample_and_interleave_back_to_the_single_process_order():
    parts = shards(10, 3, 2)
    assert [len(p) for p in parts] == [4, 4, 4]  # ceil(10 / 3), two samples repeated
    assert set(np.concatenate(parts)) == set(range(10))
    single = SeededBatchSampler(Sized(10), 2, shuffle=True, drop_last=False, seed=5)
    single.set_epoch(2)
    order = np.concatenate(list(single))
    np.testing.assert_array_equal(interleave(parts, 10), order)
    # per-sample results gathered this way count each sample once, in dataset order
    np.testing.assert_array_equal(np.sort(interleave(parts, 10)), np.arange(10))
    assert [len(p) for p in shards(10, 3, 3, drop_last=True)] == [3, 3, 3]


def test_gather_in_a_single_process_keeps_the_rows():
    rows = np.arange(12).reshape(6, 2)
    np.testing.assert_array_equal(gather_in_order(rows, 6), rows)


def write_tiny_mnist(folder: Path, n_train: int = 16, n_test: int = 5) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_test, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(n_test) % 10)


def test_two_cpu_processes_train_save_once_and_evaluate_every_sample_once(tmp_path):
    data, out = tmp_path / "mnist", tmp_path / "run"
    write_tiny_mnist(data)  # 5 test images: the second process repeats one to even out the shards
    overrides = [f"Global.output_dir={out}", "Global.epochs=1", "Global.max_iters_per_epoch=2",
                 "Global.print_batch_step=1", "Global.use_visualdl=false",
                 f"DataLoader.Train.dataset.root={data}", f"DataLoader.Eval.dataset.root={data}",
                 "DataLoader.Train.sampler.batch_size=4", "DataLoader.Eval.sampler.batch_size=2"]
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(tmp_path / "launch"), "tools/train.py", "-c", "configs/resnet20_mnist.yaml"]
    for item in overrides:
        command += ["-o", item]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    logs = "\n".join(p.read_text() for p in sorted((tmp_path / "launch").glob("workerlog.*")))
    assert done.returncode == 0, logs[-3000:]
    train_lines = [l for l in (out / "train.log").read_text().splitlines() if "[Train]" in l]
    assert len(train_lines) == 2  # rank 0 alone logs
    metrics = json.loads((out / "metrics.json").read_text())
    assert sum(row["samples"] for row in metrics["per_item"]) == 5
    state = paddle.load(str(out / "latest.pdckpt"))
    assert not any("_layers" in key for key in state["step"]["optimizer"])  # loadable by any world size
    # the gathered two-process evaluation equals a single-process evaluation of the saved weights
    cfg = load_config(REPO / "configs/resnet20_mnist.yaml",
                      [*overrides, f"Global.pretrained_model={out / 'latest'}", f"Global.output_dir={tmp_path / 'single'}"])
    single = evaluate(cfg)["ours"]
    for key in ("top1", "top5", "loss"):
        assert metrics["ours"][key] == pytest.approx(single[key], rel=1e-5, abs=1e-6), key
