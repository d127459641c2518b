"""The evaluation command: the config's set, ``--set NAME=FOLDER`` folders, per-set results."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import CheckpointError
from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.config import set_name
from ppcls_repro.engine.scoring import evaluate, format_table, parse_set_options, resolve_sets
from ppcls_repro.engine.trainer import train
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.errors import DataError

REPO = Path(__file__).resolve().parents[2]
SRCNN = REPO / "configs" / "srcnn.yaml"


def run(overrides: list[str], *extra: str) -> dict:
    return train(load_config(SRCNN, [*overrides, *extra]))


@pytest.fixture
def trained(srcnn_overrides, tmp_path) -> list[str]:
    """The overrides of an evaluation of a one-epoch SRCNN (its weights in tmp_path/run)."""
    run(srcnn_overrides, "Global.epochs=1")
    return [*srcnn_overrides, f"Global.pretrained_model={tmp_path / 'run' / 'best_model'}"]


def test_eval_tool_scores_weights_and_wrong_scale_fails(srcnn_overrides, tmp_path):
    run(srcnn_overrides, "Global.epochs=1")
    weights = f"Global.pretrained_model={tmp_path / 'run' / 'best_model'}"
    report = evaluate(load_config(SRCNN, [*srcnn_overrides, weights, "Test=null"]))
    assert len(report["per_item"]) == 4
    assert (tmp_path / "run" / "eval" / "metrics.json").is_file()
    assert 20 < report["ours"]["bicubic_psnr"] < 40


def test_weights_of_another_scale_are_refused(srcnn_overrides, tmp_path):
    run(srcnn_overrides, "Global.epochs=1")
    x2 = ["Arch.scale=2", "DataLoader.Train.dataset.scale=2", "DataLoader.Eval.dataset.scale=2", "Metric.scale=2"]
    with pytest.raises(CheckpointError, match=r"'scale' is \[3\] in the file but \[2\] in the config"):
        evaluate(load_config(SRCNN, [*srcnn_overrides, *x2,
                                     f"Global.pretrained_model={tmp_path / 'run' / 'latest'}"]))


def test_format_table_images_end_with_the_average():
    result = EvalResult(metrics={"psnr": 31.0, "ssim": 0.5},
                        per_item=[{"name": "baby", "psnr": 32.0, "ssim": 0.6}, {"name": "bird", "psnr": 30.0, "ssim": 0.4}])
    rows = format_table(result)
    assert rows[0].split() == ["item", "psnr", "ssim"]
    assert rows[1].split() == ["baby", "32.0000", "0.6000"]
    assert rows[-1].split() == ["average", "31.0000", "0.5000"]


def test_format_table_items_with_other_columns_than_the_metrics():
    """The Parzen evaluator lists one validation score per sigma; its metrics are other numbers."""
    result = EvalResult(metrics={"parzen_ll": 225.0, "parzen_se": 2.0},
                        per_item=[{"name": "sigma 0.1000", "val_ll": -10.5}, {"name": "sigma 0.2154", "val_ll": 150.25}])
    rows = format_table(result)
    assert rows[0].split() == ["item", "val_ll"]
    assert rows[2].split() == ["sigma", "0.2154", "150.2500"]
    assert rows[-1] == "result: parzen_ll 225.0000, parzen_se 2.0000"



def test_set_options_are_parsed_strictly():
    assert parse_set_options(["Set14=data/Set14", "mine=a=b"]) == {"Set14": "data/Set14", "mine": "a=b"}
    for bad, message in [("Set14", "expected NAME=FOLDER"), ("Set14=", "expected NAME=FOLDER"),
                         ("../x=f", "NAME must be"), ("=f", "NAME must be"),
                         ("metrics.json=f", "NAME must not be metrics.json or eval.log")]:
        with pytest.raises(ConfigError, match=message):
            parse_set_options([bad])
    with pytest.raises(ConfigError, match="--set A: given twice"):
        parse_set_options(["A=x", "A=y"])


def test_set_folders_keep_the_protocol_and_drop_manifest_and_download(srcnn_overrides, tiny_images):
    cfg = load_config(SRCNN, srcnn_overrides)
    (name, test_set), = resolve_sets(cfg, {"mine": str(tiny_images)}).items()
    assert name == "mine" and test_set.strict and not test_set.missing_ok
    assert test_set.node == {**cfg["DataLoader"]["Eval"]["dataset"], "root": str(tiny_images), "manifest": None,
                             "download": False}
    cfg = load_config(SRCNN, [*srcnn_overrides, "Test=null"])
    (name, test_set), = resolve_sets(cfg, {}).items()  # the config's own set, named by its folder
    assert name == tiny_images.name and test_set.node is cfg["DataLoader"]["Eval"]["dataset"]
    assert not test_set.strict and not test_set.missing_ok


def test_set_names_come_from_the_folder():
    assert set_name({"name": "SRImageFolder", "root": "dataset/Set5/"}) == "Set5"
    assert set_name({"name": "SRImageFolder", "root": "."}) == Path.cwd().name  # never an empty name
    assert set_name({"name": "SyntheticCrossModal"}) == "SyntheticCrossModal"


def test_set_needs_a_dataset_that_reads_folders():
    cfg = load_config(REPO / "configs" / "dscmr_synthetic.yaml")  # its data is generated, from no folder
    with pytest.raises(ConfigError, match=r"^--set: SyntheticCrossModal .* reads no folder"):
        resolve_sets(cfg, {"x": "."})


def test_missing_empty_or_damaged_set_folders_are_one_line_errors(trained, tmp_path, tiny_images):
    cfg = load_config(SRCNN, trained)
    with pytest.raises(DataError, match=r"^--set gone=.*nowhere: folder not found$"):
        evaluate(cfg, {"gone": str(tmp_path / "nowhere")})
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"^no images .* in .*empty$"):
        evaluate(cfg, {"empty": str(tmp_path / "empty")})
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_images, damaged)
    data = (damaged / "coffee.png").read_bytes()
    (damaged / "coffee.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"^cannot read image .*coffee.png: "):
        evaluate(cfg, {"damaged": str(damaged)})


def test_two_sets_in_one_run_and_runs_on_other_sets_keep_each_result(trained, tmp_path, tiny_images,
                                                                     shared_data):
    cfg = load_config(SRCNN, trained)
    report = evaluate(cfg, {"mine": str(tiny_images), "Set12": str(shared_data / "Set12")})
    assert list(report["sets"]) == ["mine", "Set12"]
    assert len(report["sets"]["mine"]["per_item"]) == 4 and len(report["sets"]["Set12"]["per_item"]) == 12
    assert report["ours"] == report["sets"]["mine"]["ours"]
    assert report["sets"]["Set12"]["data"]["eval"]["kind"] == "real"
    assert report["sets"]["Set12"]["paper"] == {}  # the paper's number is for Set5, not these
    own = evaluate(cfg, {tiny_images.name: str(tiny_images)})["sets"][tiny_images.name]["paper"]
    assert own == {"psnr": 32.39, "bicubic_psnr": 30.39}  # named as the config's set: the paper's rows
    eval_dir = tmp_path / "run" / "eval"
    mine = (eval_dir / "mine" / "metrics.json").read_text()
    again = evaluate(cfg, {"Set12": str(shared_data / "Set12")})
    assert (eval_dir / "mine" / "metrics.json").read_text() == mine  # not replaced by the later run
    set12 = json.loads((eval_dir / "Set12" / "metrics.json").read_text())
    assert set12["set"] == "Set12" and set12["ours"] == pytest.approx(again["sets"]["Set12"]["ours"])
    assert list(json.loads((eval_dir / "metrics.json").read_text())["sets"]) == ["Set12"]
    # Set12 is gray: scored on its own plane, so the bicubic baseline is that of the gray images
    assert 20 < set12["ours"]["bicubic_psnr"] < 35


def test_eval_tool_reports_a_missing_set_folder_in_one_line(tmp_path):
    command = [sys.executable, str(REPO / "tools" / "eval.py"), "-c", str(SRCNN),
               "-o", f"Global.output_dir={tmp_path / 'out'}", "-o", f"Global.pretrained_model={tmp_path / 'w'}",
               "--set", f"x={tmp_path / 'nowhere'}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: --set x={tmp_path / 'nowhere'}: folder not found"]
    assert not (tmp_path / "out").exists()  # refused before anything is written


def _test_sets(sets: dict) -> str:
    """A ``-o Test=...`` override (YAML flow mapping) listing ``sets``."""
    return "Test=" + json.dumps(sets)


def test_config_test_sets_are_scored_and_a_missing_one_is_a_marked_row(trained, tmp_path, tiny_images,
                                                                       shared_data):
    sets = {"mine": {"root": str(tiny_images), "paper": {"psnr": 30.0}},
            "Set12": {"root": str(shared_data / "Set12"), "manifest": "set12"},
            "Set14": {"root": str(tmp_path / "Set14"), "manifest": "set14", "paper": {"psnr": 29.37}}}
    cfg = load_config(SRCNN, [*trained, "DataLoader.Eval.dataset.download=false", _test_sets(sets)])
    report = evaluate(cfg)
    assert list(report["sets"]) == ["mine", "Set12", "Set14"]
    assert report["sets"]["mine"]["paper"] == {"psnr": 30.0} and report["sets"]["Set12"]["paper"] == {}
    assert "verified against sha256 manifest" in report["sets"]["Set12"]["data"]["eval"]["note"]
    missing = report["sets"]["Set14"]
    assert missing["data"] is None and "ours" not in missing and missing["paper"] == {"psnr": 29.37}
    assert missing["missing"].startswith("Set14 not available in ") and "download disabled" in missing["missing"]
    assert "\n" not in missing["missing"]
    eval_dir = tmp_path / "run" / "eval"
    assert (eval_dir / "mine" / "metrics.json").is_file() and (eval_dir / "Set12" / "metrics.json").is_file()
    assert not (eval_dir / "Set14").exists()  # nothing measured, nothing written
    log = (eval_dir / "eval.log").read_text()
    assert "set Set14: missing, not scored: Set14 not available" in log
    assert any(line.split()[-5:] == ["Set14", "psnr", "29.3700", "missing", "-"] for line in log.splitlines())
    assert report["ours"] == report["sets"]["mine"]["ours"]


def test_an_eval_root_that_no_test_set_reads_is_named_in_a_warning(trained, tmp_path, tiny_images):
    """``-o DataLoader.Eval.dataset.root=X`` meant for scoring X was ignored without a word."""
    shutil.copytree(tiny_images, tmp_path / "val")
    cfg = load_config(SRCNN, [*trained, f"DataLoader.Eval.dataset.root={tmp_path / 'val'}",
                              _test_sets({"mine": {"root": str(tiny_images)}})])
    evaluate(cfg)
    log = (tmp_path / "run" / "eval" / "eval.log").read_text()
    assert f"DataLoader.Eval.dataset.root {tmp_path / 'val'} (the validation set) is not scored" in log
    assert f"pass --set NAME={tmp_path / 'val'}" in log
    (tmp_path / "run" / "eval" / "eval.log").unlink()
    evaluate(load_config(SRCNN, [*trained, _test_sets({"mine": {"root": str(tiny_images)}})]))  # Eval root = mine
    assert "is not scored" not in (tmp_path / "run" / "eval" / "eval.log").read_text()


def test_when_no_test_set_is_here_the_evaluation_fails_in_one_line(trained, tmp_path):
    cfg = load_config(SRCNN, [*trained, _test_sets({"A": {"root": str(tmp_path / "a")},
                                                    "B": {"root": str(tmp_path / "b")}})])
    with pytest.raises(DataError, match=r"^no test set could be read: A: dataset folder not found: .*a; B: "):
        evaluate(cfg)
    assert not (tmp_path / "run" / "eval" / "metrics.json").exists()


def test_a_damaged_image_in_a_test_set_is_an_error_not_a_missing_set(trained, tmp_path, tiny_images):
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_images, damaged)
    (damaged / "rocket.png").write_bytes((damaged / "rocket.png").read_bytes()[:100])
    cfg = load_config(SRCNN, [*trained, _test_sets({"mine": {"root": str(tiny_images)},
                                                    "damaged": {"root": str(damaged)}})])
    with pytest.raises(DataError, match=r"^cannot read image .*rocket.png"):
        evaluate(cfg)


def test_a_set_option_takes_the_paper_numbers_of_its_test_entry(trained, tiny_images):
    cfg = load_config(SRCNN, [*trained, _test_sets({"Set14": {"root": "x", "paper": {"psnr": 29.37}}})])
    assert resolve_sets(cfg, {"Set14": str(tiny_images)})["Set14"].paper == {"psnr": 29.37}
    assert resolve_sets(cfg, {"other": str(tiny_images)})["other"].paper == {}


@pytest.mark.parametrize("sets, message", [
    ({"Set5": {"root": "dataset/Set5", "paper": {"psnr": 1.0}}},
     r"^Test.Set5.paper: Set5 is the validation set .*Paper.metrics and Paper.baseline$"),
    ({"Set14": {"root": "x", "manifest": "set41"}}, r"^Test.Set14.manifest: no shipped manifest named 'set41'"),
    ({"Set14": {"manifest": "set14"}}, r"^Test.Set14: missing required key\(s\) root$"),
    ({"Set14": {"root": "x", "sigma": 25}}, r"^Test.Set14.sigma: unknown key"),
    ({"../up": {"root": "x"}}, r"^Test.../up: a set's name must be"),
    ({"eval.log": {"root": "x"}}, r"^Test.eval.log: a set's name must be"),
    ({}, r"^Test: expected a mapping of test set names"),
])
def test_test_sections_are_checked_when_the_config_is_read(sets, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SRCNN, [_test_sets(sets)])


def test_test_sets_need_a_dataset_that_reads_folders():
    with pytest.raises(ConfigError, match=r"^Test: SyntheticCrossModal .* reads no folder"):
        load_config(REPO / "configs" / "dscmr_synthetic.yaml", [_test_sets({"x": {"root": "."}})])


def test_save_images_writes_each_sets_outputs_beside_its_name(trained, tmp_path, tiny_images, shared_data):
    from PIL import Image

    cfg = load_config(SRCNN, trained)
    evaluate(cfg, {"mine": str(tiny_images), "Set12": str(shared_data / "Set12")}, save_images=tmp_path / "img")
    assert sorted(p.name for p in (tmp_path / "img" / "mine").iterdir()) == sorted(
        f"{p.stem}_sr.png" for p in tiny_images.iterdir())
    assert len(list((tmp_path / "img" / "Set12").iterdir())) == 12
    rgb = np.asarray(Image.open(tmp_path / "img" / "mine" / "coffee_sr.png"))
    assert rgb.shape == (66, 60, 3) and rgb.dtype == np.uint8  # the HR size after modcrop by 3
    gray = np.asarray(Image.open(tmp_path / "img" / "Set12" / "01_sr.png")).astype(int)
    assert gray.shape[2] == 3 and np.abs(gray - gray[:, :, :1]).max() <= 1  # a gray input stays gray


def test_save_images_needs_an_evaluator_of_images(tmp_path):
    cfg = load_config(REPO / "configs" / "resnet20_mnist.yaml",
                      [f"Global.output_dir={tmp_path}", f"Global.pretrained_model={tmp_path / 'w'}"])
    with pytest.raises(ConfigError, match=r"^--save_images: ClassificationEvaluator \(Metric.name\) makes no images"):
        evaluate(cfg, save_images=tmp_path / "img")
    assert not list(tmp_path.iterdir())  # refused before anything is written
