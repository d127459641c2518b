"""Building what a run needs from its config: logging, device, seeds, datasets, loaders, evaluator, network."""
from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import numpy as np
import paddle
from paddle.io import BatchSampler, DataLoader, Dataset

from ppcls_repro.engine import distributed
from ppcls_repro.engine.checkpoint import seed_everything
from ppcls_repro.engine.distributed import ShardedBatchSampler, world_size
from ppcls_repro.registry import DATASETS, EVALUATORS, STEPS, ConfigError
from ppcls_repro.utils.cpu import available_cores
from ppcls_repro.utils.logger import get_logger, setup_logging

_warned_gpu = False


def start_run(g: dict[str, Any], log_file: Path | None) -> logging.Logger:
    """How every command begins: logging (to ``log_file`` too, on the main process only), the device
    and its CPU threads, the process group when launched by paddle.distributed, the seeds."""
    main = distributed.is_main_process()
    try:
        log = setup_logging(log_file if main else None)
    except OSError as err:  # the first file a run writes: an output_dir that cannot be made fails here
        raise ConfigError(f"Global.output_dir: cannot write {log_file}: {err.strerror}") from None
    log.setLevel(logging.INFO if main else logging.WARNING)
    select_device(g["device"], g["cpu_threads"])
    distributed.init_if_launched()  # a no-op unless started by paddle.distributed.launch
    seed_everything(g["seed"])
    return log


def select_device(device: str, cpu_threads: int | None = None) -> str:
    """Use the configured device; a GPU request on a CPU-only Paddle warns once and runs on CPU.
    ``cpu_threads`` (``Global.cpu_threads``, validated >= 1) sets Paddle's CPU math threads; None
    shares this process's cores among the training processes (all of them in a single process)."""
    global _warned_gpu
    if cpu_threads is None:
        cpu_threads = max(1, available_cores() // world_size())
    paddle.base.core.set_num_threads(cpu_threads)
    if device == "gpu" and not paddle.device.is_compiled_with_cuda():
        if not _warned_gpu:
            get_logger().warning("Global.device is gpu but this Paddle has no CUDA support: running on CPU")
            _warned_gpu = True
        device = "cpu"
    paddle.set_device(device)
    return device


def build_dataset(cfg: dict[str, Any], split: str, strict: bool, node: dict[str, Any] | None = None) -> Dataset:
    """Build ``DataLoader.<split>.dataset`` (or ``node`` in its place); datasets that can fall back to
    a sample take ``strict``, datasets with random augmentation take ``seed`` (``Global.seed``, see
    ``data/transforms.py``)."""
    node = cfg["DataLoader"][split]["dataset"] if node is None else node
    target = DATASETS.get(node["name"], f"DataLoader.{split}.dataset.name")
    params = inspect.signature(target).parameters
    supplied = {"strict": strict, "seed": cfg["Global"]["seed"]}
    extra = {k: v for k, v in supplied.items() if k in params}
    return DATASETS.build(node, f"DataLoader.{split}.dataset", **extra)


class SeededBatchSampler(BatchSampler):
    """Batches in an order fixed by (seed, epoch): a resumed run sees exactly the same batches."""

    def __init__(self, dataset: Dataset, batch_size: int, shuffle: bool, drop_last: bool, seed: int) -> None:
        super().__init__(dataset=dataset, batch_size=batch_size, shuffle=False, drop_last=drop_last)
        self.num_samples = len(dataset)
        self.shuffle_order = shuffle
        self.seed = seed
        self.epoch = 0
        self.skip = 0  # batches the next pass leaves out (set_epoch)

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """The order of ``epoch``; the next pass starts after its first ``skip`` batches (a resume)."""
        self.epoch, self.skip = epoch, skip

    def __iter__(self):
        order = np.arange(self.num_samples)
        if self.shuffle_order:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_samples)
        skip, self.skip = self.skip, 0
        for start in range(skip * self.batch_size, self.num_samples, self.batch_size):
            batch = order[start:start + self.batch_size]
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch.tolist()

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)


def build_loader(dataset: Dataset, part: dict[str, Any], seed: int, shard: bool = True) -> DataLoader:
    """A loader over ``dataset``; with several processes (and ``shard``) each reads its own shard."""
    sampler_cls = ShardedBatchSampler if shard and world_size() > 1 else SeededBatchSampler
    sampler = sampler_cls(dataset, seed=seed, **part["sampler"])
    workers = part["loader"]["num_workers"]
    return DataLoader(dataset, batch_sampler=sampler, num_workers=workers,
                      use_shared_memory=part["loader"]["use_shared_memory"],
                      worker_init_fn=_seed_worker(seed) if workers else None)


def _seed_worker(seed: int):
    def init(worker_id: int) -> None:
        np.random.seed((seed * 1000 + worker_id) % 2**32)
    return init


def build_evaluator(cfg: dict[str, Any]) -> Any:
    return EVALUATORS.build(cfg["Metric"], "Metric") if "Metric" in cfg else None


def data_summary(train_set: Dataset, eval_set: Dataset | None) -> dict[str, Any]:
    """What data a run actually used: 'real' or 'sample', per split (recorded in log, VisualDL, metrics.json)."""
    def describe(ds: Dataset) -> dict[str, Any]:
        source = getattr(ds, "source", None)
        info = {"samples": len(ds)}
        if source is not None:
            info.update(kind=source.kind, name=source.name, path=str(source.path), note=source.note)
        return info

    summary = {"train": describe(train_set)}
    if eval_set is not None:
        summary["eval"] = describe(eval_set)
    kinds = {part.get("kind") for part in summary.values()}
    summary["data"] = "sample" if "sample" in kinds else "real"
    return summary


def build_network(cfg: dict[str, Any], weights: dict[str, Any] | None, source: str) -> paddle.nn.Layer:
    """The configured network in eval mode, with ``weights`` loaded strictly (None: as initialised)."""
    step = STEPS.get(cfg["Step"]["name"]).from_config(cfg, steps_per_epoch=1)
    if weights is not None:
        step.load_weights(weights, source=source)
    net = step.eval_model
    net.eval()
    return net
