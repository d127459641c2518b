"""Training curves read from the loop's own log lines and drawn to a PNG."""
import numpy as np
import pytest
from PIL import Image

from ppcls_repro.engine.curves import (Series, append_stage, epoch_reaching, log_fit, plot, plot_run_curve, read_csv_series,
                                      read_eval_series, run_curve_levels)
from ppcls_repro.utils.errors import DataError

LOG = """[2026-12-03 10:00:00] INFO: [Train][Epoch 5/10][Iter 500/500] lr: 1e-2, d_loss: 0.6
[2026-12-03 10:00:01] INFO: [Eval][Epoch 5] parzen_ll: 150.5000, parzen_se: 2.0000
[2026-12-03 10:00:01] INFO: [Eval][Epoch 5] new best parzen_ll_val: 148.0000, saved out/best_model
[2026-12-03 10:00:02] INFO: [Eval][Epoch 10] parzen_ll: 160.2500, parzen_se: 2.1000
"""


def test_eval_lines_of_several_logs_join_in_order(tmp_path):
    (tmp_path / "a.log").write_text(LOG)
    (tmp_path / "b.log").write_text("[x] INFO: [Eval][Epoch 10] parzen_ll: 161.0000\n"
                                    "[x] INFO: [Eval][Epoch 15] parzen_ll: 170.0000\n")
    series = read_eval_series([tmp_path / "a.log", tmp_path / "b.log"], "parzen_ll")
    assert series.epochs == [5, 10, 15] and series.values == [150.5, 161.0, 170.0]  # the resumed log wins
    with pytest.raises(DataError, match="no \\[Eval\\] line with 'psnr'"):
        read_eval_series([tmp_path / "a.log"], "psnr")


def test_a_later_stage_follows_the_last_epoch():
    first = Series("psnr", [5, 250], [32.0, 32.3])
    joined = append_stage(first, Series("psnr", [5, 240], [32.31, 32.38]))
    assert joined.epochs == [5, 250, 255, 490] and joined.values == [32.0, 32.3, 32.31, 32.38]


def test_csv_points_and_their_errors(tmp_path):
    (tmp_path / "p.csv").write_text("epoch,parzen_ll\n350,191.5\n325,190.25\n")
    series = read_csv_series(tmp_path / "p.csv", "full validation")
    assert series.epochs == [325, 350] and series.values == [190.25, 191.5]
    (tmp_path / "bad.csv").write_text("epoch,value\n3,abc\n")
    with pytest.raises(DataError, match="bad.csv: expected epoch,value rows"):
        read_csv_series(tmp_path / "bad.csv", "x")


def test_plot_writes_a_png(tmp_path):
    (tmp_path / "a.log").write_text(LOG)
    series = read_eval_series([tmp_path / "a.log"], "parzen_ll")
    out = plot([series], tmp_path / "curve.png", 50000, "parzen_ll", "t", {"paper": 225.0}, ("budget", 1e6), log_x=True)
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[0] > 300 and image.shape[1] > 600
    assert (image < 200).any()  # something was drawn


def test_log_fit_recovers_a_logarithmic_curve_and_where_it_reaches_a_level():
    epochs = [10, 20, 40, 80, 160]
    series = Series("x", epochs, [5.0 + 2.0 * np.log(e) for e in epochs])
    a, b = log_fit(series, from_epoch=20)
    assert a == pytest.approx(5.0) and b == pytest.approx(2.0)
    assert epoch_reaching(a, b, 5.0 + 2.0 * np.log(1000)) == pytest.approx(1000)
    assert epoch_reaching(1.0, -1.0, 5.0) == float("inf")
    with pytest.raises(DataError, match="fewer than two"):
        log_fit(series, from_epoch=160)


def test_a_run_curve_has_the_paper_and_its_baselines_as_lines():
    paper = {"title": "FSRCNN (ECCV 2016)", "metrics": {"psnr": 33.06}, "baseline": {"bicubic_psnr": 30.39}}
    assert run_curve_levels(paper, "psnr") == {"paper: FSRCNN (ECCV 2016)": 33.06, "bicubic": 30.39}
    senet = {"metrics": {"top1": 0.9479}, "baseline": {"top1": 0.9363}}
    assert run_curve_levels(senet, "top1") == {"paper": 0.9479, "paper baseline": 0.9363}
    assert run_curve_levels({"metrics": {}, "baseline": {}}, "psnr") == {}


def test_a_run_curve_waits_for_the_first_evaluation(tmp_path):
    cfg = {"Global": {"best_metric": "psnr", "output_dir": str(tmp_path)}, "Paper": {"metrics": {"psnr": 32.39}}}
    log = tmp_path / "train.log"
    log.write_text("[2026-12-04 10:00:00] INFO: [Train][Epoch 1/2][Iter 3/3] loss: 0.1\n")
    assert plot_run_curve(log, cfg, 48, tmp_path / "psnr_curve.png") is None
    log.write_text(log.read_text() + "[2026-12-04 10:00:01] INFO: [Eval][Epoch 1] psnr: 30.1000, ssim: 0.8\n")
    assert plot_run_curve(log, cfg, 48, tmp_path / "psnr_curve.png").stat().st_size > 1000
