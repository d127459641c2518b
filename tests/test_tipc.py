"""The TIPC chain (test_tipc/, the reproduction contest's lite_train_lite_infer): SRCNN's runs end to end on
data the chain makes, every step logged as it ran; a broken step is reported as failed, not skipped."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIPC = ROOT / "test_tipc"
SRCNN_TXT = TIPC / "configs" / "srcnn" / "train_infer_python.txt"


def chain(txt: Path) -> subprocess.CompletedProcess:
    for script in ("prepare.sh", "test_train_inference_python.sh"):
        done = subprocess.run(["bash", str(TIPC / script), str(txt), "lite_train_lite_infer"], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
    return done


def test_every_paper_family_has_a_lite_chain():
    assert sorted(p.parent.name for p in (TIPC / "configs").glob("*/train_infer_python.txt")) == [
        "dncnn", "dscmr", "fsrcnn", "gan_mnist", "hybridsn", "resnet20_mnist", "srcnn"]


def test_the_srcnn_chain_trains_evaluates_exports_and_infers():
    done = chain(SRCNN_TXT)
    out = TIPC / "output" / "srcnn"
    results = (out / "results_python.log").read_text().splitlines()
    assert done.returncode == 0, done.stdout[-2000:]
    assert [line.split(" - ")[1].split(":")[0] for line in results] == [
        "train", "eval", "export", "infer_cpu_threads1_onednnTrue", "infer_cpu_threads1_onednnFalse",
        "infer_cpu_threads2_onednnTrue", "infer_cpu_threads2_onednnFalse"]
    assert all(line.startswith("Run successfully with command") for line in results)
    assert (out / "eval" / "eval" / "lite" / "metrics.json").is_file()
    for run in out.glob("infer_threads*"):  # every photograph upscaled, with its bicubic twin
        assert sorted(p.name for p in run.glob("*.png")) == sorted(
            f"{stem}_x3{kind}.png" for stem in ("camera", "chelsea", "immunohistochemistry") for kind in ("", "_bicubic"))


def test_a_failing_step_is_logged_as_failed_and_fails_the_chain(tmp_path):
    broken = tmp_path / "train_infer_python.txt"
    broken.write_text(SRCNN_TXT.read_text().replace("model_name:srcnn", "model_name:srcnn_broken")
                      .replace("norm_train:tools/train.py -c configs/srcnn.yaml", "norm_train:tools/train.py -c configs/no_such.yaml"))
    try:
        done = chain(broken)
        results = (TIPC / "output" / "srcnn_broken" / "results_python.log").read_text().splitlines()
        assert done.returncode == 1
        assert results[0].startswith("Run failed with command - train:")
        assert "configs/no_such.yaml" in (TIPC / "output" / "srcnn_broken" / "train.log").read_text()
    finally:
        shutil.rmtree(TIPC / "output" / "srcnn_broken", ignore_errors=True)


def test_an_unknown_mode_is_refused():
    done = subprocess.run(["bash", str(TIPC / "prepare.sh"), str(SRCNN_TXT), "whole_infer"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "unknown mode 'whole_infer'" in done.stderr
