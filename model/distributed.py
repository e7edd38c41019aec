"""Training on several processes with PyTorch's own engine: torchrun starts them, each reads its rank from
the environment torchrun sets, joins the process group (NCCL on CUDA, Gloo on the CPU) and trains its share
of every minibatch under DistributedDataParallel. Without torchrun's environment there is one rank and
nothing here talks to anyone."""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from model.device import resolve_device

# What torchrun (and `torch.distributed.run`) sets for every process it starts.
RANK_ENV, WORLD_SIZE_ENV, LOCAL_RANK_ENV = "RANK", "WORLD_SIZE", "LOCAL_RANK"


class RankFailure(RuntimeError):
    """A collective operation failed: another rank died or the network between them broke."""


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: rank of world_size, local_rank among the processes of its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size or self.local_rank < 0:
            raise ValueError(f"rank {self.rank} of world size {self.world_size} is not a place in a run")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, history and snapshots, and reports progress."""
        return self.rank == 0

    def device(self, name: str) -> torch.device:
        """The device this rank trains on: `name` resolved, and on CUDA the GPU of its local rank."""
        device = resolve_device(name)
        if not self.distributed:
            return device
        if device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        if device.type != "cpu":
            raise ValueError(f"distributed training runs on CUDA (NCCL) or the CPU (Gloo), not on {device}")
        return device

    def share(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous part of a global minibatch (along dim 0); the parts differ by at most one
        row, and a batch smaller than the world leaves some ranks an empty part."""
        return batch.tensor_split(self.world_size)[self.rank]

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of `tensor` over all ranks, in place."""
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def from_main(self, value: Any) -> Any:
        """Rank 0's `value` (any picklable object), on every rank."""
        if not self.distributed:
            return value
        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value`, in rank order, on every rank."""
        if not self.distributed:
            return [value]
        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values


SINGLE = Ranks()


def torchrun_ranks() -> Ranks | None:
    """This process's ranks from torchrun's environment, or None when torchrun did not start it."""
    if WORLD_SIZE_ENV not in os.environ:
        return None
    try:
        return Ranks(
            rank=int(os.environ[RANK_ENV]),
            world_size=int(os.environ[WORLD_SIZE_ENV]),
            local_rank=int(os.environ.get(LOCAL_RANK_ENV, "0")),
        )
    except (KeyError, ValueError) as error:
        raise ValueError(
            f"torchrun's environment is incomplete or malformed ({error}): {RANK_ENV}, {WORLD_SIZE_ENV} and "
            f"{LOCAL_RANK_ENV} must be integers"
        ) from error


@contextmanager
def process_group(device: str = "auto") -> Iterator[Ranks]:
    """Join torchrun's process group for the duration (NCCL when the ranks train on CUDA, Gloo
    otherwise), and leave it after; outside torchrun, one rank that joins nothing."""
    ranks = torchrun_ranks()
    if ranks is None or not ranks.distributed:
        yield SINGLE
        return
    on_cuda = ranks.device(device).type == "cuda"
    if on_cuda:
        torch.cuda.set_device(ranks.local_rank)
    dist.init_process_group("nccl" if on_cuda else "gloo")
    # torchrun ends every rank with SIGTERM when one fails: say so, where Python would die without a word.
    previous = signal.signal(signal.SIGTERM, _stopped_by_torchrun)
    try:
        yield ranks
    finally:
        signal.signal(signal.SIGTERM, previous)
        # DistributedDataParallel's reducer sits in reference cycles: collected here, its Gloo work goes
        # while the group and the interpreter are alive, not at exit, where it aborted a rank (SIGABRT,
        # "terminate called without an active exception") after a finished run.
        gc.collect()
        dist.destroy_process_group()


def _stopped_by_torchrun(signum: int, frame: object) -> None:
    raise RuntimeError("stopped by SIGTERM, as torchrun stops every rank when one of them fails")
