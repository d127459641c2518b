import subprocess
import sys
from pathlib import Path

import pytest

from ppcls_repro.config import apply_override, load_config
from ppcls_repro.registry import ConfigError

REPO = Path(__file__).resolve().parents[1]
SRCNN = REPO / "configs" / "srcnn.yaml"


def test_srcnn_config_loads_with_defaults():
    cfg = load_config(SRCNN)
    assert cfg["Arch"]["name"] == "SRCNN"
    assert cfg["Step"] == {"name": "SupervisedStep"}
    assert cfg["DataLoader"]["Train"]["loader"]["num_workers"] == 0
    assert cfg["Global"]["max_iters_per_epoch"] is None  # filled default


def test_overrides_are_parsed_as_yaml():
    cfg = load_config(SRCNN, ["Global.epochs=5", "DataLoader.Train.sampler.batch_size=64",
                              "Optimizer.lr.learning_rate=1e-3", "Arch.kernel_sizes=[9,5,5]",
                              "Global.checkpoints=null"])
    assert cfg["Global"]["epochs"] == 5
    assert cfg["DataLoader"]["Train"]["sampler"]["batch_size"] == 64
    assert cfg["Optimizer"]["lr"]["learning_rate"] == pytest.approx(1e-3)
    assert cfg["Arch"]["kernel_sizes"] == [9, 5, 5]


def test_override_into_list_by_index():
    cfg = {"A": {"b": [1, {"c": 2}]}}
    apply_override(cfg, "A.b.1.c=3")
    apply_override(cfg, "A.b.0=7")
    assert cfg == {"A": {"b": [7, {"c": 3}]}}
    with pytest.raises(ConfigError, match="not an index"):
        apply_override(cfg, "A.b.5=1")


@pytest.mark.parametrize("override,message", [
    ("Global.epoch=3", r"Global.epoch: unknown key \(did you mean epochs"),
    ("Global.epochs=three", r"Global.epochs: expected int, got str"),
    ("Arch.name=SRCN", r"Arch.name: unknown model 'SRCN' \(did you mean SRCNN"),
    ("Arch.chanels=[1,2]", r"Arch.chanels: unknown key \(did you mean channels"),
    ("Globl.epochs=3", r"Globl: unknown section \(did you mean Global"),
    ("DataLoader.Train.sampler.batch_sise=3", r"batch_sise: unknown key \(did you mean batch_size"),
    ("Optimizer.lr.name=Cosin", r"Optimizer.lr.name: unknown lr scheduler 'Cosin'"),
    ("Optimizer.param_lr.conv9=0.1", None),  # a bad prefix is caught when the model is built
    ("Metric.scale=x", r"Metric.scale: expected int"),
    ("Global.epochs", r"expected KEY=VALUE"),
])
def test_config_errors_name_the_key(override, message):
    if message is None:
        load_config(SRCNN, [override])
        return
    with pytest.raises(ConfigError, match=message):
        load_config(SRCNN, [override])


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("Global: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_configs_that_are_not_utf8_or_nested_beyond_reason_are_one_line_errors(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"Global:\n  output_dir: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin.yaml: not UTF-8 text \(byte 0xe9 at offset 25\)$"):
        load_config(latin)
    deep = tmp_path / "deep.yaml"
    deep.write_text("Global: " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(ConfigError, match=r"deep.yaml: not valid YAML: nested too deeply$"):
        load_config(deep)
    with pytest.raises(ConfigError, match=r"^override 'Global.output_dir=\[{82}\.\.\. \(6018 characters\)': value is not"):
        load_config(SRCNN, ["Global.output_dir=" + "[" * 3000 + "]" * 3000])
    with pytest.raises(ConfigError, match=r"^override 'Global\.a\.a.*\.\.\.': key nested 3001 levels deep \(at most 16\)$"):
        load_config(SRCNN, [".".join(["Global"] + ["a"] * 3000) + "=1"])


def test_cli_error_is_one_line_without_traceback():
    proc = subprocess.run([sys.executable, "tools/train.py", "-c", str(SRCNN), "-o", "Global.epoch=3"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: Global.epoch: unknown key"), proc.stderr


def test_train_and_eval_cut_from_one_pool_must_agree():
    cfg = REPO / "configs" / "dscmr_synthetic.yaml"
    load_config(cfg)
    with pytest.raises(ConfigError, match=r"DataLoader.Eval.dataset.data_seed: 3 differs from DataLoader.Train"):
        load_config(cfg, ["DataLoader.Eval.dataset.data_seed=3"])
    hsi = REPO / "configs" / "hybridsn_ip_synthetic.yaml"
    with pytest.raises(ConfigError, match=r"Eval.dataset.split_mode: 'disjoint' differs"):
        load_config(hsi, ["DataLoader.Eval.dataset.split_mode=disjoint"])
    load_config(hsi, ["DataLoader.Eval.dataset.split_mode=disjoint", "DataLoader.Train.dataset.split_mode=disjoint"])


@pytest.mark.parametrize("override, message", [
    ("Global.epochs=0", r"^Global.epochs: must be >= 1, got 0$"),
    ("Global.eval_interval=0", r"^Global.eval_interval: must be >= 1, got 0$"),
    ("Global.print_batch_step=0", r"^Global.print_batch_step: must be >= 1, got 0$"),
    ("Global.save_interval=-1", r"^Global.save_interval: must be >= 0, got -1$"),
    ("Global.max_iters_per_epoch=0", r"^Global.max_iters_per_epoch: must be >= 1 or null, got 0$"),
    ("Global.cpu_threads=0", r"^Global.cpu_threads: must be >= 1 or null, got 0$"),
    ("Global.seed=-3", r"^Global.seed: must be >= 0, got -3$"),
    ("Global.seed=4294967296", r"^Global.seed: must be below 2\*\*32"),
    ("DataLoader.Train.sampler.batch_size=0", r"^DataLoader.Train.sampler.batch_size: must be >= 1, got 0$"),
    ("Global.device=tpu", r"^Global.device: expected cpu, gpu or gpu:N, got 'tpu'$"),
    ("Arch.channels=[64, 0]", r"^Arch.channels: expected tuple\[int >= 1, int >= 1\], got list \[64, 0\]$"),
    ("Arch.kernel_sizes=[9, 0, 5]", r"^Arch.kernel_sizes: expected tuple\[int >= 1, int >= 1, int >= 1\]"),
    ("DataLoader.Train.dataset.stride=0", r"^DataLoader.Train.dataset.stride: expected int >= 1, got int 0$"),
    ("Optimizer.lr.learning_rate=-0.001", r"^Optimizer.lr.learning_rate: expected float > 0, got float -0.001$"),
    ("Optimizer.lr.learning_rate=0", r"^Optimizer.lr.learning_rate: expected float > 0, got int 0$"),
])
def test_values_that_would_only_fail_later_are_refused_with_the_config(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(REPO / "configs" / "srcnn.yaml", [override])


def test_sizes_of_zero_are_refused_with_the_config_for_every_paper():
    """Were a Paddle C++ error (DnCNN channels 0) or a Python one (patch stride 0) once training began."""
    with pytest.raises(ConfigError, match=r"^Arch.channels: expected int >= 1, got int 0$"):
        load_config(REPO / "configs" / "dncnn_s25.yaml", ["Arch.channels=0"])
    with pytest.raises(ConfigError, match=r"^DataLoader.Train.dataset.stride: expected int >= 1, got int 0$"):
        load_config(REPO / "configs" / "dncnn_s25.yaml", ["DataLoader.Train.dataset.stride=0"])
    with pytest.raises(ConfigError, match=r"^Arch.generator.hidden: expected tuple\[int >= 1, \.\.\.\]"):
        load_config(REPO / "configs" / "gan_mnist.yaml", ["Arch.generator.hidden=[1200, 0]"])


@pytest.mark.parametrize("config, key", [("resnet20_cifar10.yaml", "Optimizer.lr"),  # Piecewise
                                         ("resnet20_mnist.yaml", "Optimizer.lr"),  # Cosine
                                         ("gan_mnist.yaml", "Optimizer.generator.lr")])  # ExponentialDecay
def test_a_negative_learning_rate_is_refused_for_every_schedule(config, key):
    """Was gradient ascent without a word."""
    with pytest.raises(ConfigError, match=rf"^{key}.learning_rate: expected float > 0, got float -0.1$"):
        load_config(REPO / "configs" / config, [f"{key}.learning_rate=-0.1"])
