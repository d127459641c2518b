"""Every YAML in configs/ loads, builds its model, and (where tiny data is defined) trains briefly."""
from pathlib import Path

import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import train
from ppcls_repro.registry import STEPS

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def tiny_sr(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    return [f"DataLoader.Train.dataset.root={tiny_images}", "DataLoader.Train.dataset.manifest=null",
            f"DataLoader.Train.dataset.cache_dir={tmp_path / 'cache'}", "DataLoader.Train.sampler.batch_size=4",
            f"DataLoader.Eval.dataset.root={tiny_images}", "DataLoader.Eval.dataset.manifest=null"]


# dataset name of DataLoader.Train -> overrides that point the config at tiny test data
TINY_DATA = {
    "SRCNNPatches": tiny_sr,
}


def test_there_are_configs():
    assert any(c.name == "srcnn.yaml" for c in CONFIGS)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_loads_and_builds(config: Path):
    cfg = load_config(config)
    step = STEPS.get(cfg["Step"]["name"]).from_config(cfg, steps_per_epoch=10)
    assert sum(p.size for p in step.eval_model.parameters()) > 0


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_trains_two_iterations_and_evaluates(config: Path, tiny_images: Path, tmp_path: Path):
    dataset = load_config(config)["DataLoader"]["Train"]["dataset"]["name"]
    if dataset not in TINY_DATA:
        pytest.fail(f"{config.name}: add tiny test data for {dataset} to TINY_DATA")
    overrides = [f"Global.output_dir={tmp_path / 'run'}", "Global.epochs=1", "Global.max_iters_per_epoch=2",
                 "Global.use_visualdl=false", *TINY_DATA[dataset](config, tiny_images, tmp_path)]
    report = train(load_config(config, overrides))
    assert report["epoch"] == 1 and report["ours"]
