"""HybridSN export (softmax appended) and the HyperspectralMap pipeline: a .mat cube in, the class of
every pixel out, through the PCA saved at export, equal to the dygraph net on the dataset's windows."""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest
import scipy.io
from PIL import Image

from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import ExportError, export_model
from ppcls_repro.deploy.infer import InferOptions, infer
from ppcls_repro.deploy.pipeline import load_deployment
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.hybridsn.data import HSIWindows, synthetic_cube

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "hybridsn_ip.yaml"


def _overrides(root: Path, components: int = 15, window: int = 9) -> list[str]:
    out = [f"Arch.bands={components}", f"Arch.window={window}"]
    for split in ("Train", "Eval"):
        node = f"DataLoader.{split}.dataset"
        out += [f"{node}.root={root}", f"{node}.gt_file=gt.mat", f"{node}.gt_key=gt", f"{node}.cube_file=cube.mat",
                f"{node}.cube_key=cube", f"{node}.pca_components={components}", f"{node}.window={window}",
                f"{node}.cache_dir={root / 'cache'}"]
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("hsi")
    gt = np.zeros((14, 13), np.uint8)
    for k in range(16):
        r, c = divmod(k, 4)
        gt[3 * r:3 * r + 2, 3 * c:3 * c + 2] = k + 1
    cube = synthetic_cube(gt, 40, seed=2)
    scipy.io.savemat(root / "gt.mat", {"gt": gt})
    scipy.io.savemat(root / "cube.mat", {"cube": cube})
    cfg = load_config(CONFIG, _overrides(root))
    paddle.seed(1)
    net = build_network(cfg, None, "fresh")
    weights = root / "w.pdparams"
    paddle.save(net.state_dict(), str(weights))
    out = root / "inference"
    export_model(load_config(CONFIG, [*_overrides(root), f"Global.pretrained_model={weights}",
                                      f"Export.save_dir={out}"]))
    return net, root, out, cfg


def _dygraph_net(net):
    def run(inputs):
        with paddle.no_grad():
            return [paddle.nn.functional.softmax(net(paddle.to_tensor(inputs[0])), axis=-1).numpy()]
    return run


def test_map_equals_the_dygraph_net_on_the_dataset_windows(exported):
    net, root, out, cfg = exported
    pipeline = load_deployment(out).pipeline
    labels = pipeline.classify(pipeline.read_cube(root / "cube.mat"), _dygraph_net(net), batch=37)
    data = HSIWindows(**{k: v for k, v in cfg["DataLoader"]["Eval"]["dataset"].items() if k != "name"})
    windows = np.stack([data[i]["input"] for i in range(len(data))])
    # the pipeline's windows (its PCA refitted at export) are the dataset's windows
    rows, cols = data.pixels[:, 0], data.pixels[:, 1]
    reduced = pipeline.pca.transform(pipeline.read_cube(root / "cube.mat").reshape(-1, 40)).reshape(14, 13, -1)
    assert np.allclose(reduced[rows, cols], windows[:, 0, :, 4, 4], atol=1e-4)
    with paddle.no_grad():
        expected = net(paddle.to_tensor(windows)).numpy().argmax(axis=1)
    assert np.array_equal(labels[rows, cols], expected)
    assert len(np.unique(labels)) > 1


def test_infer_writes_the_map_png_and_labels_equal_to_dygraph(exported, tmp_path):
    net, root, out, _ = exported
    assert json.loads((out / "pipeline.json").read_text())["pipeline"]["class_names"][0] == "Alfalfa"
    report, _ = infer(InferOptions(model_dir=out, input=root / "cube.mat", output=tmp_path))
    assert not report.failed
    labels = np.load(tmp_path / "cube_map.npy")
    pipeline = load_deployment(out).pipeline
    expected = pipeline.classify(pipeline.read_cube(root / "cube.mat"), _dygraph_net(net), batch=64) + 1
    assert np.array_equal(labels, expected)
    image = np.asarray(Image.open(tmp_path / "cube_map.png"))
    assert image.shape == (14, 13, 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) == len(np.unique(labels))


def test_wrong_cube_and_missing_data_are_clear_errors(exported, tmp_path):
    _, root, out, _ = exported
    scipy.io.savemat(tmp_path / "small.mat", {"x": np.ones((4, 4, 7))})
    report, _ = infer(InferOptions(model_dir=out, input=tmp_path / "small.mat", output=tmp_path / "o"))
    assert "small.mat" in report.failed[0][1] and "40" in report.failed[0][1]
    cfg = load_config(CONFIG, [*_overrides(tmp_path / "nowhere"), f"Global.pretrained_model={root / 'w.pdparams'}",
                               f"Export.save_dir={tmp_path / 'inf'}"])
    with pytest.raises(ExportError, match="DataLoader.Eval.dataset.*PCA.*nowhere"):
        export_model(cfg)
