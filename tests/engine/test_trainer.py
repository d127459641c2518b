"""End to end on tiny real images: train, checkpoints, resume, seeds, bad input."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import CheckpointError, load_file, load_weights
from ppcls_repro.engine.trainer import TrainingDiverged, TrainingInterrupted, check_same_data, format_eta, train
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.cpu import available_cores
from ppcls_repro.utils.errors import DataError

REPO = Path(__file__).resolve().parents[2]
SRCNN = REPO / "configs" / "srcnn.yaml"


def run(overrides: list[str], *extra: str) -> dict:
    return train(load_config(SRCNN, [*overrides, *extra]))


def losses_in(log: Path) -> list[str]:
    return [line.split("loss: ")[1].split(",")[0] for line in log.read_text().splitlines() if "[Train]" in line]


def test_training_writes_every_output(srcnn_overrides, tmp_path):
    report = run(srcnn_overrides)
    out = tmp_path / "run"
    for name in ("train.log", "config.yaml", "metrics.json", "latest.pdparams", "latest.pdckpt",
                 "best_model.pdparams", "best_model.pdckpt", "epoch_1.pdparams", "epoch_2.pdckpt"):
        assert (out / name).is_file(), name
    assert any((out / "vdl").iterdir())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["paper"]["metrics"] == {"psnr": 32.39}
    assert metrics["data"]["train"]["kind"] == "real" and metrics["epoch"] == 2
    assert set(metrics["ours"]) == {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"}
    assert len(metrics["per_item"]) == 4 and report["ours"] == metrics["ours"]
    line = next(l for l in (out / "train.log").read_text().splitlines() if "[Train]" in l)
    for field in ("Epoch 1/2", "Iter 1/3", "lr:", "loss:", "reader_cost:", "batch_cost:", "ips:", "eta:"):
        assert field in line


def test_resume_equals_uninterrupted_run(srcnn_overrides, tmp_path):
    run(srcnn_overrides, f"Global.output_dir={tmp_path / 'full'}", "Global.epochs=3")
    run(srcnn_overrides, f"Global.output_dir={tmp_path / 'cut'}", "Global.epochs=3",
        "Global.max_iters_per_epoch=3")
    # the interrupted run: two epochs, then resume from epoch_1 into a fresh directory
    run(srcnn_overrides, f"Global.output_dir={tmp_path / 'resumed'}", "Global.epochs=3",
        f"Global.checkpoints={tmp_path / 'cut' / 'epoch_1'}")
    full = load_weights(tmp_path / "full" / "latest")
    resumed = load_weights(tmp_path / "resumed" / "latest")
    for name in full:
        np.testing.assert_array_equal(full[name].numpy(), resumed[name].numpy(), err_msg=name)
    assert losses_in(tmp_path / "full" / "train.log")[3:] == losses_in(tmp_path / "resumed" / "train.log")
    state = paddle.load(str(tmp_path / "resumed" / "latest.pdckpt"))
    assert state["progress"]["epoch"] == 3 and state["progress"]["global_iter"] == 9


def test_resume_on_other_training_data_is_refused(srcnn_overrides, tiny_images, tmp_path):
    run(srcnn_overrides, "Global.epochs=1")
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    (fewer / "coffee.png").write_bytes((tiny_images / "coffee.png").read_bytes())
    with pytest.raises(ConfigError, match=r"Global.checkpoints: .*latest was trained with train data"):
        run(srcnn_overrides, f"Global.checkpoints={tmp_path / 'run' / 'latest'}",
            f"DataLoader.Train.dataset.root={fewer}")


def test_check_same_data_compares_kind_name_and_training_size():
    real = {"train": {"kind": "real", "name": "T91", "samples": 21884},
            "eval": {"kind": "real", "name": "Set5", "samples": 5}}
    sample = {**real, "train": {"kind": "sample", "name": "T91", "samples": 7087}}
    with pytest.raises(ConfigError, match=r"T91 \(real, 21884 samples\) but this run has T91 \(sample, 7087"):
        check_same_data(real, sample, "out/latest")
    check_same_data(real, {**real, "eval": {**real["eval"], "samples": 3}}, "out/latest")  # eval subset: allowed
    with pytest.raises(ConfigError, match="eval data"):
        check_same_data(real, {**real, "eval": {**real["eval"], "kind": "sample"}}, "out/latest")
    check_same_data(None, sample, "old/latest")  # checkpoints from before the data was recorded


def test_eta_counts_what_is_left_of_a_resumed_run(srcnn_overrides, tmp_path):
    run(srcnn_overrides)  # 2 epochs of 3 iterations
    run(srcnn_overrides, f"Global.output_dir={tmp_path / 'more'}", "Global.epochs=3",
        "Global.max_iters_per_epoch=1", f"Global.checkpoints={tmp_path / 'run' / 'latest'}")
    last = [line for line in (tmp_path / "more" / "train.log").read_text().splitlines() if "[Train]" in line][-1]
    assert last.endswith("eta: 0:00:00")


def test_eta_keeps_the_days_of_a_long_run():
    assert format_eta(1209065.4) == "13 days, 23:51:05"  # %H:%M:%S of gmtime showed 23:51:05
    assert format_eta(31.6) == "0:00:32"


def test_same_seed_same_losses_other_seed_differs(srcnn_overrides, tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        run(srcnn_overrides, f"Global.output_dir={tmp_path / name}", f"Global.seed={seed}")
    a, b, c = (losses_in(tmp_path / n / "train.log") for n in "abc")
    assert a == b and a != c


def test_pretrained_with_wrong_shapes_fails(srcnn_overrides, tmp_path):
    run(srcnn_overrides, "Global.epochs=1")
    with pytest.raises(CheckpointError, match="conv1.weight' has shape"):
        run(srcnn_overrides, f"Global.output_dir={tmp_path / 'b'}", "Arch.channels=[32, 32]",
            f"Global.pretrained_model={tmp_path / 'run' / 'latest'}")


def test_nan_loss_stops_and_keeps_last_good_checkpoint(srcnn_overrides, tmp_path, monkeypatch):
    run(srcnn_overrides, "Global.epochs=1")
    good = (tmp_path / "run" / "latest.pdparams").read_bytes()
    from ppcls_repro.engine import steps

    original = steps.SupervisedStep.train_step
    calls = {"n": 0}

    def poisoned(self, batch):
        calls["n"] += 1
        result = original(self, batch)
        return {"loss": float("nan")} if calls["n"] == 2 else result

    monkeypatch.setattr(steps.SupervisedStep, "train_step", poisoned)
    with pytest.raises(TrainingDiverged, match=r"at epoch 2, iteration 2; .*the last good checkpoint is .*run/latest"):
        run(srcnn_overrides, f"Global.checkpoints={tmp_path / 'run' / 'latest'}")
    assert (tmp_path / "run" / "latest.pdparams").read_bytes() == good
    calls["n"] = 0
    with pytest.raises(TrainingDiverged, match=r"at epoch 1, iteration 2; .*no checkpoint had been saved yet"):
        run(srcnn_overrides, f"Global.output_dir={tmp_path / 'fresh'}")


def test_image_smaller_than_a_patch_is_named(srcnn_overrides, tmp_path):
    from PIL import Image

    folder = tmp_path / "small"
    folder.mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(folder / "tiny.png")
    with pytest.raises(ValueError, match=r"tiny.png: image 18x18 is smaller than a 33x33 sub-image"):
        run(srcnn_overrides, f"DataLoader.Train.dataset.root={folder}")


def test_unreadable_image_is_named(srcnn_overrides, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png"):
        run(srcnn_overrides, f"DataLoader.Train.dataset.root={folder}")


def test_missing_data_falls_back_to_labelled_sample_or_fails_strictly(srcnn_overrides, tmp_path):
    missing = [f"DataLoader.Eval.dataset.root={tmp_path / 'nowhere'}", "DataLoader.Eval.dataset.manifest=set5",
               "DataLoader.Eval.dataset.download=false"]
    report = run(srcnn_overrides, *missing, "Global.epochs=1")
    assert report["data"]["eval"]["kind"] == "sample" and report["data"]["data"] == "sample"
    assert "SAMPLE DATA IN USE" in (tmp_path / "run" / "train.log").read_text()
    with pytest.raises(ValueError, match="Set5 not available"):
        run(srcnn_overrides, *missing, "Global.strict_data=true", "Global.overwrite=true")


def test_scales_must_agree_within_a_config(srcnn_overrides):
    from ppcls_repro.registry import ConfigError

    with pytest.raises(ConfigError, match="scale: the config disagrees with itself"):
        load_config(SRCNN, [*srcnn_overrides, "Metric.scale=2"])


def test_cpu_threads_are_set_for_the_run(srcnn_overrides, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(paddle.base.core, "set_num_threads", calls.append)
    run(srcnn_overrides, "Global.epochs=1", "Global.cpu_threads=2")
    assert calls == [2]
    calls.clear()
    run(srcnn_overrides, "Global.epochs=1", f"Global.output_dir={tmp_path / 'default'}")
    assert calls == [available_cores()]  # null: every core of this (single) process


def test_cpu_threads_below_one_stop_the_run_before_any_work(srcnn_overrides, tmp_path):
    with pytest.raises(ConfigError, match="Global.cpu_threads"):
        run(srcnn_overrides, "Global.cpu_threads=0")
    assert not (tmp_path / "run").exists()  # not even the log or the resolved config


def test_metrics_json_never_holds_invalid_infinity_tokens(tmp_path):
    import json
    from ppcls_repro.engine.trainer import write_json
    write_json(tmp_path / "m.json", {"psnr": float("inf"), "items": [{"x": float("nan")}, {"y": -float("inf")}]})
    text = (tmp_path / "m.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"psnr": "inf", "items": [{"x": "nan"}, {"y": "-inf"}]}


def test_a_new_run_never_writes_over_another(srcnn_overrides, tmp_path):
    first = run(srcnn_overrides, "Global.epochs=1")
    best = (tmp_path / "run" / "best_model.pdparams").read_bytes()
    with pytest.raises(ConfigError, match=r"^Global.output_dir: .*run holds another run \(config.yaml, metrics.json, "
                                          r"latest.pdckpt, latest.pdparams, best_model.pdparams\); resume it with"):
        run(srcnn_overrides, "Global.epochs=1")
    assert (tmp_path / "run" / "best_model.pdparams").read_bytes() == best
    resumed = run(srcnn_overrides, "Global.epochs=2", f"Global.checkpoints={tmp_path / 'run' / 'latest'}")
    assert resumed["epoch"] == 2 and first["epoch"] == 1
    assert run(srcnn_overrides, "Global.epochs=1", "Global.overwrite=true")["epoch"] == 1


def test_an_output_dir_that_is_a_file_or_cannot_be_made_is_one_line(srcnn_overrides, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"^Global.output_dir: .*afile is a file, not a folder$"):
        run(srcnn_overrides, f"Global.output_dir={tmp_path / 'afile'}")
    with pytest.raises(ConfigError, match=r"^Global.output_dir: cannot write .*afile/run/train.log: Not a directory$"):
        run(srcnn_overrides, f"Global.output_dir={tmp_path / 'afile' / 'run'}")  # was a traceback


def test_a_run_that_cannot_start_leaves_the_folder_free(srcnn_overrides, tmp_path):
    missing = f"DataLoader.Train.dataset.root={tmp_path / 'no_such_folder'}"
    with pytest.raises(DataError, match="no_such_folder"):
        run(srcnn_overrides, missing, "Global.strict_data=true")
    assert not (tmp_path / "run" / "config.yaml").exists()
    assert run(srcnn_overrides, "Global.epochs=1")["epoch"] == 1  # no overwrite needed


def test_resuming_a_finished_run_reports_it_and_changes_nothing(srcnn_overrides, tmp_path, capsys):
    done = run(srcnn_overrides, "Global.epochs=1")
    files = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    capsys.readouterr()
    again = run(srcnn_overrides, "Global.epochs=1", f"Global.checkpoints={tmp_path / 'run' / 'latest'}")
    assert again["ours"] == done["ours"] and again["epoch"] == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == files
    printed = capsys.readouterr().out  # the console only: its train.log is left as it was
    assert "nothing to do" in printed and " summary: training " in printed
    assert f"{done['ours']['psnr']:.4f}" in printed  # its final PSNR, from its metrics.json


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_at_an_iteration_boundary_and_the_resume_is_exact(srcnn_overrides, tmp_path, monkeypatch, sig):
    """A real signal (os.kill to this process) in the middle of epoch 2: latest is saved at that
    iteration, and resuming from it ends bitwise where the uninterrupted run ends."""
    from ppcls_repro.engine import steps

    base = [o for o in srcnn_overrides if not o.startswith("Global.output_dir")]
    train(load_config(SRCNN, [*base, f"Global.output_dir={tmp_path / 'whole'}"]))
    original, calls = steps.SupervisedStep.train_step, {"n": 0}

    def signalled(self, batch):
        calls["n"] += 1
        if calls["n"] == 5:  # iteration 2 of epoch 2 (3 iterations per epoch)
            os.kill(os.getpid(), sig)
        return original(self, batch)

    monkeypatch.setattr(steps.SupervisedStep, "train_step", signalled)
    with pytest.raises(TrainingInterrupted, match=r"stopped at epoch 2, iteration 2 of 3; saved .*cut/latest; "
                                                  r"resume with -o Global.checkpoints=.*cut/latest") as stopped:
        train(load_config(SRCNN, [*base, f"Global.output_dir={tmp_path / 'cut'}"]))
    assert stopped.value.signal_number == sig
    assert signal.getsignal(signal.SIGINT) is not None  # handlers restored
    monkeypatch.setattr(steps.SupervisedStep, "train_step", original)
    state = load_file(tmp_path / "cut" / "latest.pdckpt")
    assert state["progress"]["epoch"] == 1 and state["progress"]["epoch_iters"] == 2
    train(load_config(SRCNN, [*base, f"Global.output_dir={tmp_path / 'cut'}",
                              f"Global.checkpoints={tmp_path / 'cut' / 'latest'}"]))
    whole, resumed = load_weights(tmp_path / "whole" / "latest"), load_weights(tmp_path / "cut" / "latest")
    for name in whole:
        np.testing.assert_array_equal(whole[name].numpy(), resumed[name].numpy(), err_msg=name)


def test_the_train_tool_exits_with_one_line_and_the_signal_code(srcnn_overrides, tmp_path):
    out = tmp_path / "tool"
    overrides = [o for o in srcnn_overrides if not o.startswith(("Global.output_dir", "Global.epochs",
                                                                  "Global.max_iters_per_epoch"))]
    command = [sys.executable, str(REPO / "tools" / "train.py"), "-c", str(SRCNN), "-o", f"Global.output_dir={out}",
               "-o", "Global.epochs=200", "-o", "Global.max_iters_per_epoch=50", "-o", "Global.eval_interval=100"]
    for item in overrides:
        command += ["-o", item]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "train.log").is_file() and "[Iter 2/" in (out / "train.log").read_text()):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1].startswith("interrupted: stopped ")
    assert "Traceback" not in err
    assert (out / "latest.pdckpt").is_file()


def test_a_misspelt_best_metric_fails_before_anything_is_written(srcnn_overrides, tmp_path):
    with pytest.raises(ConfigError, match=r"^Global.best_metric: 'pnsr' is not given by SuperResolutionEvaluator "
                                          r"\(did you mean psnr.*\) \(it gives psnr, ssim, bicubic_psnr, bicubic_ssim\)$"):
        run(srcnn_overrides, "Global.best_metric=pnsr")
    assert not (tmp_path / "run").exists()


def test_amp_bfloat16_trains_checkpoints_and_resumes_exactly_on_cpu(srcnn_overrides, tmp_path):
    """On this CPU build paddle.amp computes in float32 (engine/amp.py): the AMP path must still train,
    and a resume must end bitwise where the uninterrupted run ends."""
    amp = ["AMP.level=O1", "AMP.dtype=bfloat16"]
    base = [o for o in srcnn_overrides if not o.startswith("Global.output_dir")]
    whole = train(load_config(SRCNN, [*base, *amp, f"Global.output_dir={tmp_path / 'whole'}"]))
    train(load_config(SRCNN, [*base, *amp, "Global.epochs=1", f"Global.output_dir={tmp_path / 'part'}"]))
    resumed = train(load_config(SRCNN, [*base, *amp, f"Global.output_dir={tmp_path / 'part'}",
                                        f"Global.checkpoints={tmp_path / 'part' / 'latest'}"]))
    assert resumed["ours"] == whole["ours"] and np.isfinite(whole["ours"]["psnr"])
    assert load_config(SRCNN, [*base, *amp])["AMP"] == {"level": "O1", "dtype": "bfloat16",
                                                       "init_loss_scaling": 65536.0, "use_dynamic_loss_scaling": True}


def test_amp_settings_that_cannot_apply_are_one_line(srcnn_overrides):
    with pytest.raises(ConfigError, match=r"^AMP.dtype: float16 needs a GPU \(Global.device: gpu\); on a CPU use bfloat16$"):
        load_config(SRCNN, ["AMP.level=O1"])
    with pytest.raises(ConfigError, match=r"^AMP.level: expected "):
        load_config(SRCNN, ["AMP.level=O3", "AMP.dtype=bfloat16"])
    with pytest.raises(ConfigError, match=r"^AMP: mixed precision is written for SupervisedStep, not AdversarialStep"):
        load_config(REPO / "configs" / "gan_mnist.yaml", ["AMP.dtype=bfloat16"])
    assert "AMP" not in load_config(SRCNN, ["AMP=null"])
