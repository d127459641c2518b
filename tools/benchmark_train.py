"""Training speed of this project's networks (Paddle) against the same networks in PyTorch eager.

    python tools/benchmark_train.py                      # ResNet-20, 3x32x32, batch 128, 1 thread
    python tools/benchmark_train.py --in-channels 1      # the MNIST run's input
    python tools/benchmark_train.py --net srcnn          # SRCNN 9-1-5, 33x33 -> 21x21 sub-images

Both sides train the same network with the same optimiser and loss on the same random batch, with
the same number of CPU threads: ResNet (CifarResNet of ppcls_repro/papers/resnet/resnet.py, option A)
with momentum SGD, weight decay and cross entropy; SRCNN (ppcls_repro/papers/sr/srcnn.py, unpadded
as in training) with Adam and MSE, configs/srcnn.yaml's settings. The PyTorch networks are the
papers' alignment twins (``papers/sr/reference_torch.py``, ``papers/resnet/reference_torch.py``;
``tools/align.py`` checks they compute what the suite computes); the parameter counts are checked.
The Paddle side runs the project's own step (``SupervisedStep.train_step``). Rounds of the two
alternate, so both see the same machine load; the median of the rounds is reported.
PyTorch is imported only here and in those twins (the test extra).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def paddle_srcnn_step(threads: int):
    import paddle

    from ppcls_repro.engine.optim import Adam
    from ppcls_repro.engine.steps import SupervisedStep
    from ppcls_repro.losses import MSELoss
    from ppcls_repro.papers.sr.srcnn import SRCNN

    paddle.set_device("cpu")
    paddle.base.core.set_num_threads(threads)
    paddle.seed(0)
    model = SRCNN(scale=3)
    model.conv3.weight.optimize_attr["learning_rate"] = 0.1
    model.conv3.bias.optimize_attr["learning_rate"] = 0.1
    step = SupervisedStep(model, MSELoss(), Adam(model.parameters(), 1e-3), scheduler=_NoSchedule())
    count = sum(int(p.size) for p in model.parameters())

    def run(x: np.ndarray, y: np.ndarray) -> None:
        step.train_step({"input": paddle.to_tensor(x), "target": paddle.to_tensor(y)})
    return run, count


def torch_srcnn_step(threads: int):
    import torch

    from ppcls_repro.papers.sr.reference_torch import TorchSRCNN

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = TorchSRCNN().train()  # unpadded in training, as the suite's SRCNN
    optimizer = torch.optim.Adam([{"params": [*net.conv1.parameters(), *net.conv2.parameters()]},
                                  {"params": net.conv3.parameters(), "lr": 1e-4}], lr=1e-3)
    count = sum(p.numel() for p in net.parameters())

    def run(x: np.ndarray, y: np.ndarray) -> None:
        loss = torch.nn.functional.mse_loss(net(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss.item()
    return run, count


def paddle_step(depth: int, in_channels: int, threads: int):
    import paddle

    from ppcls_repro.engine.optim import Momentum
    from ppcls_repro.engine.steps import SupervisedStep
    from ppcls_repro.losses import CrossEntropyLoss
    from ppcls_repro.papers.resnet.resnet import CifarResNet

    paddle.set_device("cpu")
    paddle.base.core.set_num_threads(threads)
    paddle.seed(0)
    model = CifarResNet(depth=depth, in_channels=in_channels)
    optimizer = Momentum([p for p in model.parameters() if not p.stop_gradient], 0.1, 0.9, 1e-4)
    step = SupervisedStep(model, CrossEntropyLoss(), optimizer, scheduler=_NoSchedule())
    count = sum(int(p.size) for p in model.parameters() if not p.stop_gradient)

    def run(x: np.ndarray, y: np.ndarray) -> None:
        step.train_step({"input": paddle.to_tensor(x), "target": paddle.to_tensor(y)})
    return run, count


class _NoSchedule:
    def step(self) -> None:
        pass


def torch_step(depth: int, in_channels: int, threads: int):
    import torch

    from ppcls_repro.papers.resnet.reference_torch import TorchCifarResNet

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TorchCifarResNet(depth=depth, in_channels=in_channels).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    count = sum(p.numel() for p in model.parameters())

    def run(x: np.ndarray, y: np.ndarray) -> None:
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss.item()
    return run, count


def samples_per_second(run, x: np.ndarray, y: np.ndarray, iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        run(x, y)
    return iters * len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=("resnet", "srcnn"), default="resnet")
    parser.add_argument("--depth", type=int, default=20, help="ResNet depth")
    parser.add_argument("--in-channels", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=5, help="iterations per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="CPU math threads for both frameworks")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    if args.net == "srcnn":
        x = rng.random((args.batch_size, 1, 33, 33), dtype=np.float32)
        y = rng.random((args.batch_size, 1, 21, 21), dtype=np.float32)
        runs = {"paddle": paddle_srcnn_step(args.threads), "torch": torch_srcnn_step(args.threads)}
        what = f"SRCNN 9-1-5 training, batch {args.batch_size} of 1x33x33"
    else:
        x = rng.standard_normal((args.batch_size, args.in_channels, 32, 32)).astype(np.float32)
        y = rng.integers(0, 10, args.batch_size).astype(np.int64)
        runs = {"paddle": paddle_step(args.depth, args.in_channels, args.threads),
                "torch": torch_step(args.depth, args.in_channels, args.threads)}
        what = f"ResNet-{args.depth} training, batch {args.batch_size} of {args.in_channels}x32x32"
    counts = {name: count for name, (_, count) in runs.items()}
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the two networks differ: parameters {counts}")
    for run, _ in runs.values():  # warm-up: allocator, kernel selection
        samples_per_second(run, x, y, 2)
    speeds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (run, _) in runs.items():
            speeds[name].append(samples_per_second(run, x, y, args.iters))
    median = {name: statistics.median(values) for name, values in speeds.items()}
    print(f"{what}, {counts['paddle']:,} parameters, {args.threads} thread(s), {args.rounds} alternating rounds "
          f"of {args.iters} iterations")
    for name, values in speeds.items():
        print(f"  {name:6s} median {median[name]:7.1f} samples/s  (rounds: {', '.join(f'{v:.1f}' for v in values)})")
    print(f"  paddle / torch = {median['paddle'] / median['torch']:.2f}")


if __name__ == "__main__":
    main()
