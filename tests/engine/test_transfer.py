"""FSRCNN's scale transfer: partial loading (Global.pretrained_prefixes) and freezing (Optimizer.trainable)."""
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import CheckpointError, load_weights, set_weights_partial, set_weights_strict
from ppcls_repro.engine.optim import build_optimizer
from ppcls_repro.engine.steps import SupervisedStep
from ppcls_repro.engine.trainer import train
from ppcls_repro.papers.sr.fsrcnn import FSRCNN
from ppcls_repro.registry import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PREFIXES = ["extract", "shrink", "mapping", "expand"]


def x3_weights(tmp_path: Path, **arch) -> Path:
    paddle.seed(7)
    path = tmp_path / "x3.pdparams"
    paddle.save(FSRCNN(3, **arch).state_dict(), str(path))
    return path


def tiny(tiny_images: Path, tmp_path: Path, weights: Path) -> list[str]:
    return [f"Global.output_dir={tmp_path / 'run'}", "Global.epochs=1", "Global.max_iters_per_epoch=2",
            "Global.use_visualdl=false", f"Global.pretrained_model={weights}",
            f"DataLoader.Train.dataset.root={tiny_images}", "DataLoader.Train.dataset.manifest=null",
            f"DataLoader.Train.dataset.cache_dir={tmp_path / 'cache'}", "DataLoader.Train.sampler.batch_size=4",
            f"DataLoader.Eval.dataset.root={tiny_images}", "DataLoader.Eval.dataset.manifest=null"]


def test_only_the_deconvolution_moves(tiny_images, tmp_path):
    source = load_weights(x3_weights(tmp_path))
    cfg = load_config(CONFIGS / "fsrcnn_x2.yaml", tiny(tiny_images, tmp_path, tmp_path / "x3.pdparams"))
    step = SupervisedStep.from_config(cfg, steps_per_epoch=10)
    taken = set_weights_partial(step.model, source, cfg["Global"]["pretrained_prefixes"], "x3")
    assert len(taken) == 21 and not any(n.startswith("deconv") or n == "scale" for n in taken)
    trained = {id(p) for p in step.optimizer._parameter_list}
    assert trained == {id(step.model.deconv.weight), id(step.model.deconv.bias)}
    before = {k: v.numpy().copy() for k, v in step.model.state_dict().items()}
    rng = np.random.default_rng(0)
    for _ in range(3):
        step.train_step({"input": paddle.to_tensor(rng.random((4, 1, 10, 10), np.float32)),
                         "target": paddle.to_tensor(rng.random((4, 1, 20, 20), np.float32))})
    after = step.model.state_dict()
    for name in before:
        moved = not np.array_equal(before[name], after[name].numpy())
        assert moved == name.startswith("deconv"), name
    for name in taken:
        np.testing.assert_array_equal(after[name].numpy(), source[name].numpy())


def test_training_run_transfers_x3_weights(tiny_images, tmp_path):
    weights = x3_weights(tmp_path)
    train(load_config(CONFIGS / "fsrcnn_x4.yaml", tiny(tiny_images, tmp_path, weights)))
    source, result = load_weights(weights), load_weights(tmp_path / "run" / "latest")
    for name in result:
        same = np.array_equal(result[name].numpy(), source[name].numpy())
        assert same == (name.split(".")[0] in PREFIXES), name
    assert result["scale"].numpy().tolist() == [4]
    assert "loaded 21 entries (extract*, shrink*, mapping*, expand*)" in (tmp_path / "run" / "train.log").read_text()


def test_transfer_refuses_mismatched_shapes_and_unknown_prefixes(tmp_path):
    small = load_weights(x3_weights(tmp_path, d=32, s=5, m=1))
    with pytest.raises(CheckpointError, match="extract.conv.weight' has shape"):
        set_weights_partial(FSRCNN(2, m=1), small, PREFIXES, "fsrcnn_s_x3")
    with pytest.raises(CheckpointError, match=r"missing \['mapping.1"):
        set_weights_partial(FSRCNN(2, d=32, s=5, m=2), small, PREFIXES, "fsrcnn_s_x3")
    with pytest.raises(ConfigError, match="Global.pretrained_prefixes.mappings"):
        set_weights_partial(FSRCNN(2, d=32, s=5, m=1), small, ["mappings"], "fsrcnn_s_x3")
    with pytest.raises(CheckpointError, match="scale"):  # taking the buffer would claim x3 weights are x2
        set_weights_partial(FSRCNN(2, d=32, s=5, m=1), small, ["scale"], "fsrcnn_s_x3")
    with pytest.raises(CheckpointError, match="scale"):  # and strict loading refuses x3 for x2
        set_weights_strict(FSRCNN(2, d=32, s=5, m=1), small, "fsrcnn_s_x3")


def test_config_checks_for_transfer_and_freezing(tmp_path):
    x2 = CONFIGS / "fsrcnn_x2.yaml"
    with pytest.raises(ConfigError, match="pretrained_prefixes: set but Global.pretrained_model is null"):
        load_config(x2, ["Global.pretrained_model=null"])
    with pytest.raises(ConfigError, match="pretrained_prefixes: empty"):
        load_config(x2, ["Global.pretrained_prefixes=[]"])
    with pytest.raises(ConfigError, match="Optimizer.trainable: expected a non-empty list"):
        load_config(x2, ["Optimizer.trainable=deconv"])
    cfg = load_config(x2, ["Optimizer.trainable=[deconvolution]"])
    with pytest.raises(ConfigError, match="Optimizer.trainable.deconvolution: no parameter"):
        build_optimizer(cfg["Optimizer"], FSRCNN(2), steps_per_epoch=1, epochs=1)
