"""The SR authors' MATLAB models imported: outputs equal the authors' test code (re-done in NumPy in
``papers/sr/matlab.py``), layouts read by structure, and the authors' own files score the paper's Set5 numbers."""
from pathlib import Path

import numpy as np
import paddle
import pytest
import scipy.io

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.importing import detect_format, import_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.sr.matlab import fsrcnn_m, srcnn_m
from ppcls_repro.papers.sr.weights import FSRCNNMatlab, SRCNNMatlab
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.errors import DataError

REPO = Path(__file__).resolve().parents[3]
OFFICIAL = REPO.parent / "shared" / "official"


def _cells(arrays: list) -> np.ndarray:
    cells = np.empty((len(arrays), 1), object)
    for i, a in enumerate(arrays):
        cells[i, 0] = a
    return cells


def _net_output(tmp_path: Path, config: str, source: Path, image: np.ndarray, overrides=()) -> np.ndarray:
    cfg = load_config(REPO / "configs" / config, list(overrides))
    result = import_weights(source, cfg, tmp_path / "imported")
    imported = load_config(result.config)
    net = build_network(imported, load_weights(tmp_path / "imported"), "imported")
    with paddle.no_grad():
        return net(paddle.to_tensor(image[None, None].astype(np.float32))).numpy()[0, 0]


@pytest.mark.parametrize("kernels", [(9, 1, 5), (9, 3, 5)])
def test_srcnn_import_equals_the_authors_srcnn_m(tmp_path, kernels):
    rng = np.random.default_rng(0)
    k1, k2, k3 = kernels
    mat = {"weights_conv1": rng.normal(0, 0.1, (k1 * k1, 6)), "biases_conv1": rng.normal(0, 0.1, (6, 1)),
           "weights_conv2": rng.normal(0, 0.1, (6, k2 * k2, 4)), "biases_conv2": rng.normal(0, 0.1, (4, 1)),
           "weights_conv3": rng.normal(0, 0.1, (4, k3 * k3)), "biases_conv3": rng.normal(0, 0.1, (1, 1))}
    scipy.io.savemat(tmp_path / "x3.mat", mat)
    assert detect_format(tmp_path / "x3.mat") is SRCNNMatlab
    image = rng.random((17, 13))
    out = _net_output(tmp_path, "srcnn.yaml", tmp_path / "x3.mat", image)
    np.testing.assert_allclose(out, srcnn_m(image, scipy.io.loadmat(tmp_path / "x3.mat")), atol=2e-5)
    written = (tmp_path / "imported.yaml").read_text()
    assert written.startswith("# Written by tools/import_weights.py") and f"- {k2}" in written


@pytest.mark.parametrize("scale", [2, 4])
def test_fsrcnn_import_equals_the_authors_fsrcnn_m_inside_the_border(tmp_path, scale):
    """deconv.m pads the LR maps by edge replication, the suite's deconvolution does not: the HR border
    within the kernel's reach differs; everything inside equals the authors' code."""
    rng = np.random.default_rng(1)
    d, s = 5, 3
    shapes = [(1, 25, d), (d, 1, s), (s, 9, s), (s, 1, d), (1, 81, d)]
    weights = [rng.normal(0, 0.2, shape) for shape in shapes]
    biases = [rng.normal(0, 0.1, (n, 1)) for n in (d, s, s, d, 1)]
    slopes = [np.array([[0.1 * (i + 1)]]) for i in range(4)] + [np.zeros((1, 0))]
    scipy.io.savemat(tmp_path / "x.mat", {"weights_conv": _cells(weights), "biases_conv": _cells(biases),
                                          "prelu_conv": _cells(slopes)})
    assert detect_format(tmp_path / "x.mat") is FSRCNNMatlab
    image = rng.random((11, 9))
    out = _net_output(tmp_path, f"fsrcnn_x{scale}.yaml", tmp_path / "x.mat", image)
    reference = fsrcnn_m(image, scipy.io.loadmat(tmp_path / "x.mat"), scale)
    assert out.shape == reference.shape == (11 * scale, 9 * scale)
    inner = slice(2 * scale, -2 * scale)
    np.testing.assert_allclose(out[inner, inner], reference[inner, inner], atol=2e-5)
    imported = load_config(tmp_path / "imported.yaml")
    assert imported["Arch"]["padding_mode"] == "replicate" and imported["Arch"]["deconv_alignment"] == "corner"
    assert (imported["Arch"]["d"], imported["Arch"]["s"], imported["Arch"]["m"]) == (d, s, 1)


def test_a_file_of_another_model_or_format_is_one_clear_error(tmp_path):
    scipy.io.savemat(tmp_path / "other.mat", {"weights": np.zeros((3, 3))})
    with pytest.raises(DataError, match=r"other.mat: not a weight file this suite can import \(formats: .*SRCNNMatlab"):
        detect_format(tmp_path / "other.mat")
    rng = np.random.default_rng(0)
    scipy.io.savemat(tmp_path / "x3.mat", {"weights_conv1": rng.random((81, 4)), "biases_conv1": rng.random((4, 1)),
                                           "weights_conv2": rng.random((4, 1, 2)), "biases_conv2": rng.random((2, 1)),
                                           "weights_conv3": rng.random((2, 25)), "biases_conv3": rng.random((1, 1))})
    with pytest.raises(ConfigError, match=r"^Arch.name: .*x3.mat holds SRCNN weights \(SRCNNMatlab\), but the config "
                                          r"builds FSRCNN$"):
        import_weights(tmp_path / "x3.mat", load_config(REPO / "configs" / "fsrcnn_x3.yaml"), tmp_path / "out")
    scipy.io.savemat(tmp_path / "bad.mat", {"weights_conv1": rng.random((80, 4)), "biases_conv1": rng.random((4, 1)),
                                            "weights_conv2": rng.random((4, 1, 2)), "biases_conv2": rng.random((2, 1)),
                                            "weights_conv3": rng.random((2, 25)), "biases_conv3": rng.random((1, 1))})
    with pytest.raises(DataError, match=r"bad.mat: 80 values per filter is not a square kernel"):
        import_weights(tmp_path / "bad.mat", load_config(REPO / "configs" / "srcnn.yaml"), tmp_path / "out")
    assert not (tmp_path / "out.pdparams").exists()


OFFICIAL_SCORES = [("SRCNN_9-1-5_91images_x3.mat", "srcnn.yaml", 32.39),   # paper Table (SRCNN, 91 images, x3)
                   ("FSRCNN_x3.mat", "fsrcnn_x3.yaml", 33.16),              # FSRCNN paper, final model x3
                   ("FSRCNN-s_x3.mat", "fsrcnn_s_x3.yaml", 32.60)]


@pytest.mark.parametrize("name, config, paper", OFFICIAL_SCORES)
def test_the_authors_weights_score_the_paper_on_set5(tmp_path, shared_data, name, config, paper):
    if not (OFFICIAL / name).is_file():
        pytest.skip(f"the authors' file is not at {OFFICIAL / name}")
    from ppcls_repro.engine.scoring import evaluate
    set5 = shared_data / "Set5"
    cfg = load_config(REPO / "configs" / config, [f"DataLoader.Eval.dataset.root={set5}",
                                                 f"Test={{Set5: {{root: '{set5}', manifest: set5}}}}",
                                                 f"Global.output_dir={tmp_path / 'run'}"])
    result = import_weights(OFFICIAL / name, cfg, tmp_path / "authors")
    report = evaluate(load_config(result.config))
    assert abs(report["ours"]["psnr"] - paper) < 0.01
