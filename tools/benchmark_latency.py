"""CPU latency of one LR image (256x256, x3 by default): exported model vs dygraph vs PyTorch.

    python tools/benchmark_latency.py -c configs/srcnn.yaml [-o Global.pretrained_model=PATH] [--sweep]

The network input is what tools/infer.py feeds for a real photograph (a crop of scikit-image's
astronaut): for SRCNN the bicubic-upscaled 768x768 Y in [0, 1], run whole (no tiles). The model
is exported to a temporary folder and run three ways, interleaved so a busy machine slows all of
them alike: the Paddle Inference predictor (default CPU options), the dygraph network, and the same
network written in PyTorch with the same weights (eager, and torch.jit.trace). The script checks
all outputs agree before timing. ``--sweep`` also times the predictor with oneDNN on/off for each
thread count. Weights do not change the timing; without Global.pretrained_model the configured
initialisation is used.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import paddle

from ppcls_repro.cli import config_parser, run
from ppcls_repro.config import load_config
from ppcls_repro.deploy.benchmark import Timing, photograph, time_interleaved
from ppcls_repro.deploy.export import export_network
from ppcls_repro.deploy.pipeline import load_deployment
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions, resolve_options
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.utils.images import save_image
from ppcls_repro.utils.logger import setup_logging

AGREEMENT = 1e-4  # outputs of the three implementations, relative to the output's magnitude (>= 1)


def parse_args() -> argparse.Namespace:
    parser = config_parser(__doc__)
    parser.add_argument("--lr_size", type=int, default=256, help="side of the LR image (default 256)")
    parser.add_argument("--repeats", type=int, default=4, help="timed runs of each (default 4)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for all three (default: all cores)")
    parser.add_argument("--sweep", action="store_true", help="also time predictor oneDNN on/off x thread counts")
    parser.add_argument("--sweep_repeats", type=int, default=2, help="timed runs of each sweep setting (default 2)")
    parser.add_argument("--no_torch", action="store_true", help="skip the PyTorch twin")
    return parser.parse_args()


def torch_srcnn(net: paddle.nn.Layer) -> Any:
    """SRCNN in PyTorch with ``net``'s weights: convs padded by edge replication to keep the size
    (as the Paddle model at test time), ReLU after the first two."""
    import torch

    class TorchSRCNN(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.convs = torch.nn.ModuleList()
            for conv in (net.conv1, net.conv2, net.conv3):
                out_c, in_c, k, _ = conv.weight.shape
                layer = torch.nn.Conv2d(in_c, out_c, k, padding=k // 2, padding_mode="replicate")
                with torch.no_grad():  # Paddle and PyTorch both store conv weights as OIHW
                    layer.weight.copy_(torch.from_numpy(conv.weight.numpy()))
                    layer.bias.copy_(torch.from_numpy(conv.bias.numpy()))
                self.convs.append(layer)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for i, conv in enumerate(self.convs):
                x = conv(x)
                if i < len(self.convs) - 1:
                    x = torch.relu(x)
            return x

    return TorchSRCNN().eval()


def torch_runners(net: paddle.nn.Layer, x: np.ndarray, threads: int) -> dict[str, Callable[[], np.ndarray]]:
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping the PyTorch comparison (pip install torch)")
        return {}
    if type(net).__name__ != "SRCNN":
        print(f"no PyTorch twin of {type(net).__name__} in this script: skipping the PyTorch comparison")
        return {}
    torch.set_num_threads(threads)
    model = torch_srcnn(net)
    tensor = torch.from_numpy(x)
    with torch.inference_mode():
        traced = torch.jit.freeze(torch.jit.trace(model, tensor))

    def eager() -> np.ndarray:
        with torch.inference_mode():
            return model(tensor).numpy()

    def jit() -> np.ndarray:
        with torch.inference_mode():
            return traced(tensor).numpy()

    return {f"PyTorch {torch.__version__} eager": eager, "PyTorch torch.jit (trace+freeze)": jit}


def main() -> None:
    args = parse_args()
    setup_logging()
    cfg = load_config(args.config, args.override)
    paddle.set_device("cpu")
    paddle.seed(cfg["Global"]["seed"])
    source = cfg["Global"]["pretrained_model"]
    weights = load_weights(source) if source else None
    threads = resolve_options(PredictorOptions(cpu_threads=args.threads)).cpu_threads
    paddle.base.core.set_num_threads(threads)

    dygraph = build_network(cfg, weights, str(source))
    weights = weights or dygraph.state_dict()  # the exported copy gets the same (initial) weights
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "inference"
        export_network(build_network(cfg, weights, str(source)), cfg, model_dir, str(source))
        deployment = load_deployment(model_dir, {"tile_size": 0})
        photo = Path(tmp) / "lr.png"
        save_image(photograph(args.lr_size), photo)
        x = deployment.pipeline.network_inputs(photo)[0]
        print(f"LR image {args.lr_size}x{args.lr_size} RGB -> network input {'x'.join(map(str, x.shape))}; "
              f"{threads} CPU thread(s) for every runtime; {os.cpu_count()} cores, load average "
              f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")

        predictor = Predictor(model_dir, PredictorOptions(cpu_threads=threads))

        def run_dygraph() -> np.ndarray:
            with paddle.no_grad():
                return dygraph(paddle.to_tensor(x)).numpy()

        runners: dict[str, Callable[[], np.ndarray]] = {
            f"Paddle Inference ({predictor.describe()})": lambda: predictor([x])[0],
            "Paddle dygraph": run_dygraph,
        }
        if not args.no_torch:
            runners.update(torch_runners(dygraph, x, threads))
        check_agreement(runners)
        report(time_interleaved(runners, args.warmup, args.repeats))
        if args.sweep:
            sweep(model_dir, x, args)


def check_agreement(runners: dict[str, Callable[[], np.ndarray]]) -> None:
    outputs = {name: run() for name, run in runners.items()}
    ref_name, ref = next(iter(outputs.items()))
    scale = max(1.0, float(np.abs(ref).max()))
    for name, out in outputs.items():
        diff = float(np.abs(out.astype(np.float64) - ref).max())
        print(f"output check: {name} vs {ref_name}: max abs diff {diff:.2e}")
        if diff > AGREEMENT * scale:
            raise ValueError(f"{name} disagrees with {ref_name} by {diff:.3g}: not the same network")


def report(timings: dict[str, Timing]) -> None:
    base = next(iter(timings.values()))
    print(f"\n{'runtime':<52}{'median ms':>12}{'min ms':>10}{'x predictor':>14}")
    for t in timings.values():
        print(f"{t.name:<52}{t.median_ms:>12.1f}{1000 * min(t.seconds):>10.1f}{t.median_ms / base.median_ms:>14.2f}")


def sweep(model_dir: Path, x: np.ndarray, args: argparse.Namespace) -> None:
    counts = sorted({1, resolve_options(PredictorOptions()).cpu_threads})
    predictors = {f"oneDNN {'on ' if onednn else 'off'}, {n} thread(s)":
                  Predictor(model_dir, PredictorOptions(cpu_threads=n, enable_onednn=onednn))
                  for onednn in (True, False) for n in counts}
    timings = time_interleaved({name: (lambda p=p: p([x])) for name, p in predictors.items()},
                               args.warmup, args.sweep_repeats)
    print("\npredictor options (Paddle Inference, CPU):")
    report(timings)
    fastest = min(timings.values(), key=lambda t: t.median_ms)
    print(f"fastest: {fastest.name}")


if __name__ == "__main__":
    run(main)
