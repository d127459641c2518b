"""RetrievalStep and RetrievalEvaluator in the one training loop (DSCMR on small synthetic features)."""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import load_resume_state, load_weights, save_checkpoint
from ppcls_repro.engine.setup import build_dataset, build_loader
from ppcls_repro.engine.scoring import evaluate
from ppcls_repro.engine.trainer import train
from ppcls_repro.papers.dscmr.evaluate import RetrievalEvaluator
from ppcls_repro.papers.dscmr.metrics import retrieval_map
from ppcls_repro.papers.dscmr.step import RetrievalStep
from ppcls_repro.registry import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
SYNTHETIC = CONFIGS / "dscmr_synthetic.yaml"
SMALL = {"num_classes": 4, "image_dim": 32, "text_dim": 12}


def small_overrides(out: Path, *extra: str) -> list[str]:
    """The demo config shrunk to seconds: 4 classes, small features and network, 40 + 16 pairs."""
    overrides = [f"Global.output_dir={out}", "Global.epochs=2", "Global.print_batch_step=1",
                 "Global.use_visualdl=false", "Global.save_interval=1", "Arch.hidden_dim=24", "Arch.common_dim=16",
                 "DataLoader.Train.sampler.batch_size=10", "DataLoader.Train.sampler.shuffle=true"]
    for key, value in SMALL.items():
        overrides.append(f"Arch.{key}={value}")
        for split in ("Train", "Eval"):
            overrides.append(f"DataLoader.{split}.dataset.{key}={value}")
    for split in ("Train", "Eval"):
        overrides += [f"DataLoader.{split}.dataset.num_train=40", f"DataLoader.{split}.dataset.num_test=16"]
    return [*overrides, *extra]


def small_config(tmp_path: Path, *extra: str) -> dict:
    return load_config(SYNTHETIC, small_overrides(tmp_path / "run", *extra))


def first_batch(cfg: dict) -> dict:
    loader = build_loader(build_dataset(cfg, "Train", strict=False), cfg["DataLoader"]["Train"], seed=0)
    return next(iter(loader))


def test_a_few_steps_reduce_the_loss_and_log_every_term(tmp_path):
    cfg = small_config(tmp_path, "Optimizer.lr.learning_rate=1e-3")
    paddle.seed(0)
    step = RetrievalStep.from_config(cfg, steps_per_epoch=4)
    batch = first_batch(cfg)
    losses = [step.train_step(batch) for _ in range(15)]
    assert set(losses[0]) == {"loss", "j1", "j2", "j3"}
    first, last = losses[0], losses[-1]
    assert first["loss"] == pytest.approx(first["j1"] + 1e-3 * first["j2"] + 1e-1 * first["j3"], rel=1e-5)
    assert last["loss"] < 0.85 * first["loss"] and last["j1"] < first["j1"]


def test_config_sets_adam_as_the_paper(tmp_path):
    step = RetrievalStep.from_config(small_config(tmp_path), steps_per_epoch=4)
    assert isinstance(step.optimizer, paddle.optimizer.Adam)
    assert step.optimizer._beta1 == 0.5 and step.optimizer._beta2 == 0.999 and step.lr == pytest.approx(1e-4)
    assert step.loss.alpha == 1e-3 and step.loss.beta == 1e-1


def test_state_dict_round_trip_continues_identically(tmp_path):
    cfg = small_config(tmp_path, "Optimizer.lr.learning_rate=1e-3")
    batch = first_batch(cfg)
    paddle.seed(0)
    a = RetrievalStep.from_config(cfg, steps_per_epoch=4)
    for _ in range(3):
        a.train_step(batch)
    save_checkpoint(tmp_path / "ckpt", a.weights(), {"step": a.state_dict()})  # through a file, as a resume
    paddle.seed(1)  # b starts from other weights: everything must come from a's checkpoint
    b = RetrievalStep.from_config(cfg, steps_per_epoch=4)
    state = load_resume_state(tmp_path / "ckpt")
    b.set_state_dict(state["step"], state["weights"], source="test")
    assert a.train_step(batch) == b.train_step(batch)
    for name, value in a.weights().items():
        np.testing.assert_array_equal(value.numpy(), b.weights()[name].numpy(), err_msg=name)


def test_training_writes_terms_and_selects_best_on_validation(tmp_path):
    report = train(small_config(tmp_path))
    out = tmp_path / "run"
    log = (out / "train.log").read_text()
    line = next(l for l in log.splitlines() if "[Train]" in l)
    for field in ("loss:", "j1:", "j2:", "j3:", "lr: 1.000e-04"):
        assert field in line
    assert "[Eval][Epoch 2] map_i2t:" in log and "SYNTHETIC DATA IN USE" in log
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["ours"]) == {"map_i2t", "map_t2i", "map_avg"}
    assert metrics["data"]["data"] == "sample" and "SYNTHETIC" in metrics["data"]["eval"]["name"]
    assert metrics["data"]["eval"]["samples"] == 4  # the validation split, not the test pairs
    assert metrics["best"]["map_avg"] == max(metrics["best"]["map_avg"], metrics["ours"]["map_avg"])
    assert [row["name"] for row in metrics["per_item"]] == [f"class {c}" for c in range(4)]
    assert report["paper"]["metrics"] == {"map_i2t": 0.710, "map_t2i": 0.722, "map_avg": 0.716}
    for name in ("best_model.pdparams", "latest.pdckpt", "epoch_2.pdparams"):
        assert (out / name).is_file()


def test_resume_equals_uninterrupted_run(tmp_path):
    full = small_overrides(tmp_path / "full", "Global.epochs=3")
    train(load_config(SYNTHETIC, full))
    train(load_config(SYNTHETIC, small_overrides(tmp_path / "cut", "Global.epochs=1")))
    train(load_config(SYNTHETIC, small_overrides(tmp_path / "resumed", "Global.epochs=3",
                                                 f"Global.checkpoints={tmp_path / 'cut' / 'latest'}")))
    a, b = load_weights(tmp_path / "full" / "latest"), load_weights(tmp_path / "resumed" / "latest")
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy(), err_msg=name)


def test_eval_tool_scores_the_test_split(tmp_path):
    train(small_config(tmp_path, "Global.epochs=1"))
    cfg = small_config(tmp_path, f"Global.pretrained_model={tmp_path / 'run' / 'best_model'}",
                       "DataLoader.Eval.dataset.split=test")
    report = evaluate(cfg)
    assert report["data"]["eval"]["samples"] == 16 and "split test" in report["data"]["eval"]["note"]
    assert 0.0 < report["ours"]["map_avg"] <= 1.0
    assert (tmp_path / "run" / "eval" / "metrics.json").is_file()


def test_evaluator_equals_the_metric_on_encoded_features(tmp_path):
    cfg = small_config(tmp_path, "DataLoader.Eval.dataset.split=test", "DataLoader.Eval.sampler.batch_size=5")
    step = RetrievalStep.from_config(cfg, steps_per_epoch=1)
    dataset = build_dataset(cfg, "Eval", strict=False)
    result = RetrievalEvaluator()(step.eval_model, build_loader(dataset, cfg["DataLoader"]["Eval"], seed=0))
    model = step.eval_model
    u = model.encode_image(paddle.to_tensor(dataset.images)).numpy()
    v = model.encode_text(paddle.to_tensor(dataset.texts)).numpy()
    assert result.metrics["map_i2t"] == pytest.approx(retrieval_map(u, v, dataset.labels, dataset.labels), rel=1e-6)
    assert result.metrics["map_t2i"] == pytest.approx(retrieval_map(v, u, dataset.labels, dataset.labels), rel=1e-6)
    assert result.metrics["map_avg"] == pytest.approx((result.metrics["map_i2t"] + result.metrics["map_t2i"]) / 2)
    rows = result.per_item
    assert sum(row["queries"] for row in rows) == 16
    assert np.mean([row["map_i2t"] for row in rows]) == pytest.approx(result.metrics["map_i2t"])  # balanced classes
    assert model.training  # the evaluator restores training mode


def test_retrieval_step_needs_a_two_modality_model():
    with pytest.raises(ConfigError, match="RetrievalStep needs a two-modality model .* 'SRCNN'"):
        load_config(CONFIGS / "srcnn.yaml", ["Step.name=RetrievalStep"])
