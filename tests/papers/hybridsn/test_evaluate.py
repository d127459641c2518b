"""HSI evaluator: OA/AA/kappa in percent against hand-computed values, classification maps, report tool."""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest
import scipy.io
from PIL import Image

from ppcls_repro.config import load_config
from ppcls_repro.engine.setup import build_loader
from ppcls_repro.papers.hybridsn.data import TEST, TRAIN, HSIWindows
from ppcls_repro.papers.hybridsn.evaluate import PALETTE, HSIClassificationEvaluator, colourise, write_hsi_report
from ppcls_repro.papers.hybridsn.model import HybridSN

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "hybridsn_ip_synthetic.yaml"


class AlwaysFirstClass(paddle.nn.Layer):
    """Predicts class 0 for every window (logits [N, 4])."""

    def forward(self, x):
        return paddle.to_tensor([[1.0, 0.0, 0.0, 0.0]]).tile([x.shape[0], 1])


@pytest.fixture
def scene(tmp_path):
    gt = np.zeros((10, 12), np.uint8)
    gt[0:4, 0:4], gt[0:4, 6:12], gt[6:10, 0:6], gt[6:10, 8:12] = 1, 2, 3, 4  # 16, 24, 24, 16 pixels
    scipy.io.savemat(tmp_path / "gt.mat", {"gt": gt})
    return gt


def dataset(tmp_path, split):
    return HSIWindows(root=str(tmp_path), split=split, gt_file="gt.mat", gt_key="gt", synthetic=True,
                      synthetic_bands=20, pca_components=13, window=9, cache_dir=str(tmp_path / "cache"))


def loader(data):
    return build_loader(data, {"sampler": {"batch_size": 7, "shuffle": False, "drop_last": False},
                               "loader": {"num_workers": 0, "use_shared_memory": False}}, seed=0)


def test_scores_in_percent_and_maps(tmp_path, scene):
    test = dataset(tmp_path, "test")
    counts = np.bincount(test.labels, minlength=4)  # per class: round(0.7 n)
    assert list(counts) == [11, 17, 17, 11]
    result = HSIClassificationEvaluator(num_classes=4, class_map="all", map_zoom=2)(AlwaysFirstClass(), loader(test))
    n = counts.sum()
    assert result.metrics["OA"] == pytest.approx(100 * 11 / n)
    assert result.metrics["AA"] == pytest.approx(25.0)  # 100% for class 1, 0% for the others
    assert result.metrics["Kappa"] == pytest.approx(0.0)  # one class always predicted: chance level
    assert result.metrics["acc_01"] == 100.0 and result.metrics["acc_04"] == 0.0
    panel = result.images["classification_map"]
    assert panel.shape == (20, 2 * 24 + 4, 3) and panel.dtype == np.uint8
    prediction = panel[::2, 28::2]
    np.testing.assert_array_equal(prediction[scene > 0], np.tile(PALETTE[1], ((scene > 0).sum(), 1)))
    np.testing.assert_array_equal(panel[::2, :24:2], colourise(scene))
    # class_map: test colours the scored pixels only (training pixels stay black)
    only_test = HSIClassificationEvaluator(num_classes=4, class_map="test", map_zoom=1)(
        AlwaysFirstClass(), loader(test))
    coloured = only_test.images["classification_map"][:, 16:].any(axis=2)
    np.testing.assert_array_equal(coloured, test.roles == TEST)
    assert HSIClassificationEvaluator(num_classes=4, class_map="none")(AlwaysFirstClass(), loader(test)).images == {}


def test_wrong_number_of_classes_is_a_config_error(tmp_path, scene):
    from ppcls_repro.registry import ConfigError

    with pytest.raises(ConfigError, match="Metric.num_classes is 5"):
        HSIClassificationEvaluator(num_classes=5)(AlwaysFirstClass(), loader(dataset(tmp_path, "test")))


def test_report_tool_writes_maps_and_a_consistent_report(tmp_path, scene):
    paddle.seed(0)
    weights = tmp_path / "w.pdparams"
    paddle.save(HybridSN(num_classes=16, bands=13, window=9).state_dict(), str(weights))
    overrides = [f"Global.output_dir={tmp_path / 'run'}", f"Global.pretrained_model={weights}",
                 "Arch.bands=13", "Arch.window=9", "Metric.map_zoom=2"]
    for split in ("Train", "Eval"):
        overrides += [f"DataLoader.{split}.dataset.{key}" for key in (
            f"root={tmp_path}", "gt_file=gt.mat", "gt_key=gt", "synthetic_bands=20", "pca_components=13",
            "window=9", f"cache_dir={tmp_path / 'cache'}")]
    report = write_hsi_report(load_config(CONFIG, overrides))
    out = tmp_path / "run" / "map"
    for name in ("classification_map", "ground_truth", "split"):
        assert Image.open(out / f"{name}.png").size == (24, 20), name
    split_png = np.asarray(Image.open(out / "split.png"))[::2, ::2]
    roles = dataset(tmp_path, "test").roles
    assert (split_png[roles == TRAIN] == 255).all()
    saved = json.loads((out / "report.json").read_text())
    assert saved["metrics"] == pytest.approx(report["metrics"])
    assert "synthetic cube on the IP map" in saved["data"] and "random stratified" in saved["data"]
    counts = np.array(saved["confusion_matrix"]["counts"])
    assert counts.shape == (16, 16) and counts.sum() == 56
    assert np.trace(counts) / 56 * 100 == pytest.approx(saved["metrics"]["OA"])
    assert [row["test_pixels"] for row in saved["per_class"][:5]] == [11, 17, 17, 11, 0]
    assert saved["per_class"][4]["accuracy"] is None


def test_palette_colours_are_distinct_and_background_is_black():
    diff = np.abs(PALETTE[:, None].astype(int) - PALETTE[None].astype(int)).sum(axis=2)
    np.fill_diagonal(diff, 999)
    assert len(PALETTE) == 17 and diff.min() > 60 and not PALETTE[0].any()
    np.testing.assert_array_equal(colourise(np.array([[0, 1, 17]])), PALETTE[[0, 1, 1]][None])  # wraps around
