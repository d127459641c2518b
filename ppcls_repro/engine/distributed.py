"""Multi-process data-parallel training, the PaddleClas way::

    python -m paddle.distributed.launch --gpus 0,1 tools/train.py -c configs/resnet50_imagenet.yaml
    python -m paddle.distributed.launch --nproc_per_node 2 tools/train.py -c ...   # CPU processes (gloo)

Nothing here does anything in a single process. With N > 1 processes:
- every process reads its own shard of each epoch (``ShardedBatchSampler``, a
  ``paddle.io.DistributedBatchSampler`` that keeps the (seed, epoch) order of the
  single-process ``SeededBatchSampler``); ``DataLoader.*.sampler.batch_size`` is per process,
  as in PaddleClas, so the global batch is N x batch_size;
- the network is wrapped in ``paddle.DataParallel``, which averages gradients in backward;
- rank 0 alone writes the log file, VisualDL, checkpoints and metrics.json;
- evaluation scores one shard per process and ``gather_in_order`` reassembles per-sample results
  in dataset order, dropping the samples the sampler repeated to even out the shards.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import paddle
import paddle.distributed as dist
from paddle.io import Dataset, DistributedBatchSampler

from ppcls_repro.registry import ConfigError


def world_size() -> int:
    """Number of training processes (1 unless started by ``paddle.distributed.launch``)."""
    return max(1, dist.get_world_size())


def rank() -> int:
    return dist.get_rank() if world_size() > 1 else 0


def is_main_process() -> bool:
    return rank() == 0


def init_if_launched() -> None:
    """Join the process group when launched with several processes (gloo on CPU, NCCL on GPU)."""
    if world_size() > 1 and not dist.is_initialized():
        dist.init_parallel_env()


class ShardedBatchSampler(DistributedBatchSampler):
    """Per-process batches of one epoch: the (seed, epoch) permutation (the order of
    ``SeededBatchSampler``), extended by repeating its first samples to a multiple of the number
    of processes; process r takes positions r, r + N, r + 2N, ... so shards differ by at most the
    repeated samples, and position j*N + r of the order is sample j of rank r."""

    def __init__(self, dataset: Dataset, batch_size: int, shuffle: bool, drop_last: bool, seed: int,
                 num_replicas: int | None = None, rank: int | None = None) -> None:
        super().__init__(dataset, batch_size, num_replicas=num_replicas, rank=rank, shuffle=shuffle,
                         drop_last=drop_last)
        self.seed = seed
        self.skip = 0  # batches the next pass leaves out (set_epoch)

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """The order of ``epoch``; the next pass starts after its first ``skip`` batches (a resume)."""
        self.epoch, self.skip = epoch, skip

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.dataset)
        order = np.arange(n)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        padded = np.concatenate([order, np.resize(order, self.total_size - n)])
        mine = padded[self.local_rank::self.nranks]
        skip, self.skip = self.skip, 0
        for start in range(skip * self.batch_size, len(mine), self.batch_size):
            batch = mine[start:start + self.batch_size]
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch.tolist()


def gather_in_order(local: np.ndarray, total: int) -> np.ndarray:
    """Rows of every process's shard, back in the order of the (unpadded) epoch: [total, ...].

    ``local`` holds one row per sample of this process's shard, in shard order. The repeated
    samples sit at positions >= ``total`` of the interleaved order and are cut off, so each
    sample counts once.
    """
    if world_size() == 1:
        return local[:total]
    lengths: list[paddle.Tensor] = []
    dist.all_gather(lengths, paddle.to_tensor([len(local)], dtype="int64"))
    if len({int(t.item()) for t in lengths}) != 1:
        raise RuntimeError(f"evaluation shards differ in length ({[int(t.item()) for t in lengths]}); "
                           "the eval loader must use ShardedBatchSampler")
    parts: list[paddle.Tensor] = []
    dist.all_gather(parts, paddle.to_tensor(np.ascontiguousarray(local)))
    return interleave([p.numpy() for p in parts], total)


def interleave(shards: list[np.ndarray], total: int) -> np.ndarray:
    """Undo ``ShardedBatchSampler``'s split: row j of shard r is position j * N + r of the
    epoch's order; keep the first ``total`` positions (the rest are repeats)."""
    stacked = np.stack(shards, axis=1)  # [shard length, processes, ...]
    return stacked.reshape(-1, *shards[0].shape[1:])[:total]


def broadcast_from_main(model: paddle.nn.Layer) -> None:
    """Copy rank 0's weights and BN statistics to every process (each process's BN running
    statistics drift apart in training; rank 0's are the ones saved)."""
    if world_size() == 1:
        return
    for tensor in model.state_dict().values():
        dist.broadcast(tensor, src=0)


class NamedDataParallel(paddle.DataParallel):
    """``paddle.DataParallel`` that names parameters like the wrapped network (``conv1.weight``,
    not ``_layers.conv1.weight``), so optimizer states in checkpoints load across any number of
    processes. (State dicts are already the wrapped network's in Paddle.)"""

    def named_parameters(self, prefix: str = "", include_sublayers: bool = True) -> Any:
        return self._layers.named_parameters(prefix=prefix, include_sublayers=include_sublayers)


def wrap_data_parallel(step: Any) -> None:
    """With several processes, make the step's network data-parallel (a no-op otherwise)."""
    if world_size() == 1:
        return
    if not isinstance(getattr(step, "model", None), paddle.nn.Layer):
        raise ConfigError(f"Step: multi-process training supports steps with one network in `model`; "
                          f"{type(step).__name__} has none")
    step.model = NamedDataParallel(step.model)
