"""A classification run end to end on tiny MNIST files: resume is exact with seeded augmentation."""
from pathlib import Path

import numpy as np

from ppcls_repro.config import load_config
from ppcls_repro.data.mnist import write_idx
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.trainer import train

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "resnet20_mnist.yaml"


def test_resume_reproduces_the_uninterrupted_run_with_augmentation(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "mnist"
    data.mkdir()
    write_idx(data / "train-images-idx3-ubyte", rng.integers(0, 256, (12, 28, 28)))
    write_idx(data / "train-labels-idx1-ubyte", np.arange(12) % 10)
    write_idx(data / "t10k-images-idx3-ubyte", rng.integers(0, 256, (4, 28, 28)))
    write_idx(data / "t10k-labels-idx1-ubyte", np.arange(4))
    base = ["Global.epochs=3", "Global.use_visualdl=false", "Global.save_interval=1",
            f"DataLoader.Train.dataset.root={data}", f"DataLoader.Eval.dataset.root={data}",
            "DataLoader.Train.sampler.batch_size=4", "DataLoader.Eval.sampler.batch_size=4"]

    def run(name: str, *extra: str) -> dict:
        return train(load_config(CONFIG, [*base, f"Global.output_dir={tmp_path / name}", *extra]))

    full = run("full")
    run("resumed", f"Global.checkpoints={tmp_path / 'full' / 'epoch_1'}")
    a, b = load_weights(tmp_path / "full" / "latest"), load_weights(tmp_path / "resumed" / "latest")
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy(), err_msg=name)
    other = run("other_seed", "Global.seed=7")
    assert other["ours"]["loss"] != full["ours"]["loss"]
