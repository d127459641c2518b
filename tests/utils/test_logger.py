"""VisualDL charts: each metric drawn with its measured baselines and the paper's number."""
import math

from ppcls_repro.utils.logger import metric_charts


def test_a_metric_chart_holds_its_baselines_and_the_paper():
    metrics = {"psnr": 32.4, "ssim": 0.90, "bicubic_psnr": 30.39, "bicubic_ssim": 0.87}
    assert metric_charts(metrics, {"psnr": 32.39}) == {
        "psnr": {"model": 32.4, "bicubic": 30.39, "paper": 32.39},
        "ssim": {"model": 0.90, "bicubic": 0.87},
    }


def test_metrics_without_baselines_get_a_chart_each_and_non_finite_values_are_left_out():
    assert metric_charts({"top1": 0.91, "top5": 0.99, "loss": math.inf}, {"top1": 0.9125}) == {
        "top1": {"model": 0.91, "paper": 0.9125}, "top5": {"model": 0.99}}
    assert metric_charts({"psnr": math.inf, "noisy_psnr": 20.2}, {}) == {"psnr": {"noisy": 20.2}}
