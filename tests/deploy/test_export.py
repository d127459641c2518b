"""Export: static model + pipeline.json from a config and weights; static equals dygraph."""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import ExportError, export_model, export_spec_of, save_dir_of
from ppcls_repro.deploy.predictor import Predictor
from ppcls_repro.engine.checkpoint import CheckpointError
from ppcls_repro.engine.setup import build_network
from ppcls_repro.registry import ConfigError

SRCNN = Path(__file__).resolve().parents[2] / "configs" / "srcnn.yaml"


def srcnn_cfg(tmp_path: Path, *extra: str) -> dict:
    """configs/srcnn.yaml with He-initialised weights saved to disk (outputs of order 1, not ~1e-3)."""
    paddle.seed(3)
    cfg = load_config(SRCNN, ["Arch.init=kaiming", f"Global.output_dir={tmp_path / 'run'}"])
    weights = tmp_path / "weights.pdparams"
    paddle.save(build_network(cfg, None, "fresh").state_dict(), str(weights))
    return load_config(SRCNN, ["Arch.init=kaiming", f"Global.output_dir={tmp_path / 'run'}",
                               f"Global.pretrained_model={weights}", *extra])


def test_save_inference_dir_as_in_paddleclas_wins_over_export_save_dir(tmp_path):
    base = ["Global.output_dir=out/run", "Export.save_dir=out/export"]
    assert save_dir_of(load_config(SRCNN, ["Global.output_dir=out/run"])) == Path("out/run/inference")
    assert save_dir_of(load_config(SRCNN, base)) == Path("out/export")
    assert save_dir_of(load_config(SRCNN, [*base, "Global.save_inference_dir=deploy/srcnn"])) == Path("deploy/srcnn")


def test_export_writes_static_model_and_pipeline(tmp_path):
    cfg = srcnn_cfg(tmp_path)
    result = export_model(cfg)
    assert result.save_dir == tmp_path / "run" / "inference" == save_dir_of(cfg)
    names = sorted(p.name for p in result.save_dir.iterdir())
    assert names in (["inference.json", "inference.pdiparams", "pipeline.json"],
                     ["inference.pdiparams", "inference.pdmodel", "pipeline.json"])
    meta = json.loads((result.save_dir / "pipeline.json").read_text())
    assert meta["inputs"] == [{"name": "image", "shape": [-1, 1, -1, -1], "dtype": "float32"}]
    assert meta["pipeline"] == {"name": "SuperResolution", "scale": 3, "upsample_input": True, "halo": 6,
                                "net_input": "y_bt601", "value_range": [0.0, 1.0]}
    assert meta["model"]["arch"]["name"] == "SRCNN" and meta["model"]["weights"].endswith("weights.pdparams")
    assert meta["verification"]["max_abs_diff_vs_dygraph"] < 1e-5 and result.max_abs_diff < 1e-5


def test_static_equals_dygraph_for_other_batch_and_sizes(tmp_path):
    cfg = srcnn_cfg(tmp_path)
    export_model(cfg)
    dygraph = build_network(cfg, paddle.load(cfg["Global"]["pretrained_model"]), "weights")
    predictor = Predictor(save_dir_of(cfg))
    rng = np.random.default_rng(0)
    for shape in ([1, 1, 33, 33], [3, 1, 70, 41], [1, 1, 128, 96]):
        x = rng.random(shape, dtype=np.float32)
        with paddle.no_grad():
            expected = dygraph(paddle.to_tensor(x)).numpy()
        (out,) = predictor([x])
        assert out.shape == tuple(shape)  # padded convs: the output keeps the input size
        assert np.abs(expected).max() > 0.1  # a real signal, not near-zero weights
        assert np.abs(out - expected).max() < 1e-5, shape


def test_export_needs_weights_and_loads_them_strictly(tmp_path):
    cfg = load_config(SRCNN, [f"Global.output_dir={tmp_path}"])
    with pytest.raises(ConfigError, match="Global.pretrained_model: required for export"):
        export_model(cfg)
    srcnn_cfg(tmp_path)  # writes weights.pdparams of the 64/32 model
    wrong = load_config(SRCNN, ["Arch.channels=[32, 16]", f"Global.pretrained_model={tmp_path / 'weights'}"])
    with pytest.raises(CheckpointError, match="conv1.weight' has shape"):
        export_model(wrong, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_section_sets_pipeline_options_and_folder(tmp_path):
    cfg = srcnn_cfg(tmp_path, f"Export.save_dir={tmp_path / 'deploy'}", "Export.pipeline.tile_size=128")
    export_model(cfg)
    meta = json.loads((tmp_path / "deploy" / "pipeline.json").read_text())
    assert meta["pipeline"]["tile_size"] == 128 and meta["pipeline"]["scale"] == 3


@pytest.mark.parametrize("override,message", [
    ("Export.pipeline.tile_sise=128", r"Export.pipeline.tile_sise: unknown key \(did you mean tile_size"),
    ("Export.pipeline.scale=2", r"Export.pipeline.scale: set by the model"),
    ("Export.pipeline.tile_size=big", r"Export.pipeline.tile_size: expected int"),
    ("Export.pipeline.tile_size=-5", r"Export.pipeline: SuperResolution: bad settings .*tile_size=-5"),
    ("Export.save_to=x", r"Export.save_to: unknown key \(did you mean save_dir"),
])
def test_bad_export_options_name_the_key(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        export_model(srcnn_cfg(tmp_path, override), tmp_path / "out")


def test_a_model_without_export_spec_is_refused():
    with pytest.raises(ExportError, match="Linear has no export_spec"):
        export_spec_of(paddle.nn.Linear(2, 2), {"Export": {}})


def test_export_tool_error_is_one_line(tmp_path):
    import subprocess
    import sys

    repo = SRCNN.parents[1]
    proc = subprocess.run([sys.executable, "tools/export_model.py", "-c", str(SRCNN),
                           "-o", f"Global.pretrained_model={tmp_path / 'none'}"],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert proc.returncode == 1 and lines == [f"error: no weights at {tmp_path / 'none'}.pdparams "
                                              f"(nor {tmp_path / 'none'}.pdckpt)"], proc.stderr
    assert "Traceback" not in proc.stderr
