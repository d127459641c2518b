"""DSCMR export (one static model per modality) and the CrossModalRetrieval pipeline."""
import json

import numpy as np
import paddle
import pytest
import scipy.io

from ppcls_repro.deploy.export import export_network
from ppcls_repro.deploy.infer import InferOptions, infer
from ppcls_repro.deploy.pipeline import load_deployment
from ppcls_repro.deploy.predictor import Predictor
from ppcls_repro.papers.dscmr.deploy import read_feature_file
from ppcls_repro.registry import MODELS
from ppcls_repro.utils.errors import DataError

DIMS = {"image": 24, "text": 10}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    paddle.seed(3)
    model = MODELS.build({"name": "DSCMR", "num_classes": 4, "image_dim": DIMS["image"], "text_dim": DIMS["text"],
                          "hidden_dim": 16, "common_dim": 8}, "Arch")
    model.eval()
    folder = tmp_path_factory.mktemp("dscmr") / "inference"
    result = export_network(model, {"Arch": {"name": "DSCMR"}, "Export": {}}, folder)
    return model, folder, result


def _dygraph(model, modality: str, x: np.ndarray) -> np.ndarray:
    encode = model.encode_image if modality == "image" else model.encode_text
    with paddle.no_grad():
        return encode(paddle.to_tensor(x)).numpy()


@pytest.mark.parametrize("modality", ["image", "text"])
def test_each_branch_static_equals_dygraph(exported, modality):
    model, folder, result = exported
    assert (folder / modality / "inference.pdiparams").is_file() and result.max_abs_diff < 1e-5
    x = np.random.default_rng(1).standard_normal((7, DIMS[modality])).astype(np.float32)
    (static,) = Predictor(folder / modality)([x])
    expected = _dygraph(model, modality, x)
    assert static.shape == (7, 8) and np.abs(expected).max() > 1e-2
    assert np.abs(static - expected).max() < 1e-5
    meta = json.loads((folder / "pipeline.json").read_text())
    assert meta["branches"] == ["image", "text"]
    assert meta["pipeline"] == {"name": "CrossModalRetrieval", "image_dim": 24, "text_dim": 10, "common_dim": 8}


@pytest.mark.parametrize("query", ["image", "text"])
def test_infer_ranks_the_gallery_as_dygraph(exported, tmp_path, query):
    model, folder, _ = exported
    gallery_modality = "text" if query == "image" else "image"
    rng = np.random.default_rng(2)
    queries = rng.standard_normal((5, DIMS[query])).astype(np.float32)
    gallery = rng.standard_normal((9, DIMS[gallery_modality])).astype(np.float32)
    np.save(tmp_path / "queries.npy", queries)
    scipy.io.savemat(tmp_path / "test_gallery.mat", {"test_gallery": gallery.astype(np.float64)})  # official layout
    report, _ = infer(InferOptions(model_dir=folder, input=tmp_path / "queries.npy", output=tmp_path / "out",
                                   pipeline_options={"gallery": str(tmp_path / "test_gallery.mat"),
                                                     "query_modality": query, "top_k": 4}))
    assert not report.failed
    written = json.loads((tmp_path / "out" / "queries_top4.json").read_text())
    u, v = _dygraph(model, query, queries), _dygraph(model, gallery_modality, gallery)
    cosine = (u / np.linalg.norm(u, axis=1, keepdims=True)) @ (v / np.linalg.norm(v, axis=1, keepdims=True)).T
    expected = np.argsort(-cosine, axis=1)[:, :4]
    assert [r["gallery"] for r in written["results"]] == expected.tolist()
    got = np.array([r["similarity"] for r in written["results"]])
    assert np.allclose(got, np.take_along_axis(cosine, expected, axis=1), atol=1e-5)


def test_missing_gallery_and_wrong_dims_fail_with_a_clear_message(exported, tmp_path):
    _, folder, _ = exported
    np.save(tmp_path / "q.npy", np.zeros((2, DIMS["image"]), np.float32))
    np.save(tmp_path / "g.npy", np.zeros((3, 99), np.float32))
    report, _ = infer(InferOptions(model_dir=folder, input=tmp_path / "q.npy", output=tmp_path / "out"))
    assert "--gallery" in report.failed[0][1]
    report, _ = infer(InferOptions(model_dir=folder, input=tmp_path / "q.npy", output=tmp_path / "out2",
                                   pipeline_options={"gallery": str(tmp_path / "g.npy")}))
    assert "g.npy" in report.failed[0][1] and "[N, 10] text" in report.failed[0][1]


def test_load_deployment_names_a_missing_branch(exported, tmp_path):
    import shutil

    _, folder, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "text")
    with pytest.raises(ValueError, match="text"):
        load_deployment(copy)


def test_read_feature_file_mat_rules(tmp_path):
    scipy.io.savemat(tmp_path / "one.mat", {"feats": np.ones((2, 3))})
    assert read_feature_file(tmp_path / "one.mat").shape == (2, 3)
    scipy.io.savemat(tmp_path / "two.mat", {"a": np.ones((2, 3)), "b": np.ones((2, 3))})
    with pytest.raises(DataError, match="two.mat"):
        read_feature_file(tmp_path / "two.mat")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="bad.npy"):
        read_feature_file(tmp_path / "bad.npy")
