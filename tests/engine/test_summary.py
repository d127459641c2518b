"""The end-of-run block: known facts in, known lines out; a real tiny training and evaluation end with it."""
import json
from pathlib import Path

import pytest

from ppcls_repro.config import load_config, set_name
from ppcls_repro.engine.scoring import evaluate
from ppcls_repro.engine.summary import (evaluation_facts, format_duration, paper_numbers, summary_lines,
                                        summary_table, training_facts)
from ppcls_repro.engine.trainer import train

REPO = Path(__file__).resolve().parents[2]
SRCNN = REPO / "configs" / "srcnn.yaml"


def messages(log: Path) -> list[str]:
    """The log's messages without the '[time] LEVEL: ' prefix."""
    return [line.split(": ", 1)[1] for line in log.read_text().splitlines() if ": " in line]


def block(lines: list[str], command: str) -> list[str]:
    """The summary block at the end of ``lines``, from its title line to its closing rule."""
    start = max(i for i, line in enumerate(lines) if f" summary: {command} " in line)
    return lines[start:start + next(i for i, line in enumerate(lines[start + 1:], 1) if set(line) == {"="}) + 1]


def test_summary_rows_give_paper_ours_and_difference():
    rows = summary_table({"Set5": {"paper": {"psnr": 32.39}, "ours": {"psnr": 32.0, "ssim": 0.9}},
                          "mine": {"paper": {}, "ours": {"psnr": 30.0}}})
    assert rows[0].split() == ["set", "metric", "paper", "ours", "difference"]
    assert rows[1].split() == ["Set5", "psnr", "32.3900", "32.0000", "-0.3900"]
    assert rows[2].split() == ["Set5", "ssim", "-", "0.9000", "-"]
    assert rows[3].split() == ["mine", "psnr", "-", "30.0000", "-"]


def test_a_baseline_named_like_a_metric_never_replaces_the_papers_number():
    cfg = load_config(REPO / "configs" / "se_resnet110_cifar10.yaml")
    assert cfg["Paper"]["baseline"]["top1"] != cfg["Paper"]["metrics"]["top1"]
    assert paper_numbers(cfg, set_name(cfg["DataLoader"]["Eval"]["dataset"])) == cfg["Paper"]["metrics"]
    sr = load_config(SRCNN)
    assert paper_numbers(sr, "Set5") == {"psnr": 32.39, "bicubic_psnr": 30.39}


def test_training_block_from_known_values():
    facts = {
        "command": "training",
        "sets": {"Set5": {"paper": {"psnr": 32.39, "bicubic_psnr": 30.39},
                          "ours": {"psnr": 32.3782, "ssim": 0.904, "bicubic_psnr": 30.3922}}},
        "baseline_keys": ["bicubic_psnr"],
        "best": {"metric": "psnr", "value": 32.385, "epoch": 230, "paper": 32.39},
        "final_epoch": 250, "epochs": 250, "resumed_at": 0,
        "wall_seconds": 8883.2,
        "weights": [("best model", "out/best_model.pdparams"), ("latest", "out/latest.pdparams")],
    }
    lines = summary_lines(facts)
    assert lines[0].strip("=") == " summary: training " and set(lines[-1]) == {"="}
    assert lines[1] == "best psnr: 32.3850 at epoch 230 (paper 32.3900, difference -0.0050)"
    assert lines[2] == "final (epoch 250 of 250):"
    assert lines[3].split() == ["set", "metric", "paper", "ours", "difference"]
    assert lines[4].split() == ["Set5", "psnr", "32.3900", "32.3782", "-0.0118"]
    assert lines[5].split() == ["Set5", "ssim", "-", "0.9040", "-"]
    assert lines[6].split() == ["Set5", "bicubic_psnr", "30.3900", "30.3922", "+0.0022", "baseline"]
    assert lines[7] == "wall time: 2 h 28 min 3 s"
    assert lines[8:10] == ["best model: out/best_model.pdparams", "latest: out/latest.pdparams"]
    assert len(lines) == 11


def test_a_resumed_run_says_its_wall_time_is_this_process_only_and_a_run_without_eval_says_so():
    lines = summary_lines({"command": "training", "sets": {}, "best": None, "final_epoch": None, "epochs": 3,
                           "resumed_at": 2, "wall_seconds": 5.25, "weights": [("latest", "o/latest.pdparams")]})
    assert lines[1] == "final: not evaluated (no Eval set, or no epoch run)"
    assert lines[2] == "wall time: 5.2 s (this process, resumed after epoch 2)"


def test_a_sample_stand_in_is_said_to_say_nothing_about_the_paper():
    facts = {"command": "evaluation", "sets": {"sample": {"paper": {"psnr": 32.39}, "ours": {"psnr": 20.0},
                                                         "data": {"eval": {"kind": "sample"}}}}}
    assert not any("SAMPLE" in line for line in summary_lines(facts))
    assert "data: a SAMPLE stand-in" in "\n".join(summary_lines({**facts, "data": "sample"}))


def test_evaluation_block_lists_missing_sets_and_a_baseline_named_like_a_metric():
    lines = summary_lines({"command": "evaluation",
                           "sets": {"Set5": {"paper": {"top1": 0.9479}, "ours": {"top1": 0.95}},
                                    "Set14": {"paper": {"psnr": 29.3}, "missing": "not here"}},
                           "other_baseline": {"top1": 0.9363}, "wall_seconds": 61, "weights": [("weights", "w")]})
    assert lines[0].strip("=") == " summary: evaluation "
    assert lines[2].split() == ["Set5", "top1", "0.9479", "0.9500", "+0.0021"]
    assert lines[3].split() == ["Set14", "psnr", "29.3000", "missing", "-"]
    assert lines[4:7] == ["the paper's baseline: top1 0.9363", "wall time: 1 min 1 s", "weights: w"]


@pytest.mark.parametrize("seconds, text", [(0.04, "0.0 s"), (59.94, "59.9 s"), (60, "1 min 0 s"),
                                           (3600, "1 h 0 min 0 s"), (90061.6, "25 h 1 min 2 s")])
def test_durations(seconds, text):
    assert format_duration(seconds) == text


def test_training_facts_point_at_the_weights_and_the_papers_numbers(tmp_path):
    cfg = load_config(SRCNN, [f"Global.output_dir={tmp_path}"])
    facts = training_facts(cfg, {"psnr": 31.0, "bicubic_psnr": 30.39}, 4, 31.2, 3, 12.0)
    assert facts["sets"] == {"Set5": {"paper": {"psnr": 32.39, "bicubic_psnr": 30.39},
                                      "ours": {"psnr": 31.0, "bicubic_psnr": 30.39}}}
    assert facts["best"] == {"metric": "psnr", "value": 31.2, "epoch": 3, "paper": 32.39}
    assert facts["baseline_keys"] == ["bicubic_psnr"]
    assert [label for label, _ in facts["weights"]] == ["best model", "latest"]
    assert str(tmp_path / "best_model.pdparams") in facts["weights"][0][1]


def test_a_tiny_real_training_then_evaluation_end_with_the_block(srcnn_overrides, tmp_path):
    report = train(load_config(SRCNN, srcnn_overrides))
    out = tmp_path / "run"
    lines = block(messages(out / "train.log"), "training")
    best = report["best"]
    assert lines[1].startswith(f"best psnr: {best['psnr']:.4f} at epoch {best['epoch']} (paper 32.3900, difference ")
    assert lines[2] == "final (epoch 2 of 2):"
    name = set_name({"root": srcnn_overrides[-2].split("=", 1)[1]})
    psnr_row = next(line.split() for line in lines if line.split()[:2] == [name, "psnr"])
    assert psnr_row == [name, "psnr", "32.3900", f"{report['ours']['psnr']:.4f}",
                        f"{report['ours']['psnr'] - 32.39:+.4f}"]
    assert any(line.split()[1:2] == ["bicubic_psnr"] and line.endswith("baseline") for line in lines)
    assert any(line.startswith("wall time: ") for line in lines)
    assert f"best model: {out / 'best_model.pdparams'} (epoch {best['epoch']}" in "\n".join(lines)
    assert f"latest: {out / 'latest.pdparams'}" in "\n".join(lines)

    cfg = load_config(SRCNN, [*srcnn_overrides, f"Global.pretrained_model={out / 'best_model'}", "Test=null"])
    scored = evaluate(cfg)
    lines = block(messages(out / "eval" / "eval.log"), "evaluation")
    row = next(line.split() for line in lines if line.split()[:2] == [name, "psnr"])
    assert row[3] == f"{scored['ours']['psnr']:.4f}"
    assert lines[-2] == f"weights: {out / 'best_model'}"
    assert json.loads((out / "eval" / "metrics.json").read_text())["ours"] == pytest.approx(scored["ours"])


def test_evaluation_facts_see_a_sample_set_and_name_the_weights(tmp_path):
    cfg = load_config(SRCNN, [f"Global.output_dir={tmp_path}", "Global.pretrained_model=w/best"])
    sets = {"Set5": {"paper": {"psnr": 32.39}, "ours": {"psnr": 30.0}, "data": {"eval": {"kind": "real"}}}}
    assert evaluation_facts(cfg, sets, 1.0)["data"] == "real"
    sets["sample"] = {"paper": {}, "ours": {"psnr": 20.0}, "data": {"eval": {"kind": "sample"}}}
    facts = evaluation_facts(cfg, sets, 1.0)
    assert facts["data"] == "sample" and facts["weights"] == [("weights", "w/best")]
