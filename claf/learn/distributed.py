"""DistributedDataParallel plumbing: one process per device, started by ``torchrun``.

    torchrun --nproc_per_node 2 train.py --base_config klue/nsmc_bert          # one machine
    torchrun --nnodes 2 --node_rank 0 --master_addr host0 --nproc_per_node 8 train.py ...

``Distributed.from_env()`` reads the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR/PORT) and joins the process group: nccl on CUDA, gloo on CPU. Without them it is a
single process and every collective is a no-op, so the trainer has one code path.
"""

import contextlib
import logging
import os

import torch

logger = logging.getLogger(__name__)


class Distributed:
    def __init__(self, rank=0, world_size=1, local_rank=0, local_world_size=1, device=None):
        self.rank = rank
        self.world_size = world_size
        self.local_rank = local_rank
        self.local_world_size = local_world_size
        self.device = torch.device(device) if device is not None else default_device(local_rank)

    @classmethod
    def from_env(cls, backend=None, num_threads=None):
        """Join the torchrun process group when WORLD_SIZE > 1 (once per process)."""
        world_size = int(os.environ.get("WORLD_SIZE", 1))
        rank, local_rank = int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
        dist = cls(rank, world_size, local_rank, local_world)
        set_threads(num_threads, local_world if dist.device.type == "cpu" else 1)
        if world_size > 1 and not torch.distributed.is_initialized():
            backend = backend or ("nccl" if dist.device.type == "cuda" else "gloo")
            if dist.device.type == "cuda":
                torch.cuda.set_device(dist.device)
            torch.distributed.init_process_group(backend=backend, rank=rank, world_size=world_size)
            logger.info("rank %d/%d joined the %s process group on %s", rank, world_size, backend, dist.device)
        return dist

    @property
    def enabled(self):
        return self.world_size > 1

    @property
    def is_main(self):
        return self.rank == 0

    def wrap(self, model, find_unused_parameters=False):
        """The model under DDP when distributed (gradients averaged across ranks), else itself."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused_parameters)

    def no_sync(self, wrapped, skip):
        """Skip DDP's gradient all-reduce for a micro-batch that is not the last of its window."""
        if skip and self.enabled:
            return wrapped.no_sync()
        return contextlib.nullcontext()

    def sum_on_device(self, value):
        """``value`` (a number) summed over all ranks, as a float64 tensor left on the device: no host sync."""
        if not self.enabled:
            return torch.tensor(float(value), dtype=torch.float64)
        tensor = to_device(
            torch.tensor(float(value), dtype=torch.float64), self.device if self.device.type == "cuda" else "cpu"
        )
        torch.distributed.all_reduce(tensor)
        return tensor

    def sum(self, values):
        """Element-wise sum of a list of numbers over all ranks (floats back)."""
        if not self.enabled:
            return [float(v) for v in values]
        device = self.device if self.device.type == "cuda" else "cpu"
        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, obj):
        """Every rank's ``obj``, in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size
        torch.distributed.all_gather_object(out, obj)
        return out

    def any(self, flag):
        """True on every rank when ``flag`` is true on any rank."""
        return self.sum([1.0 if flag else 0.0])[0] > 0 if self.enabled else bool(flag)

    def barrier(self):
        if self.enabled:
            torch.distributed.barrier()

    def close(self):
        if self.enabled and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def to_device(value, device):
    """A CPU tensor (or a batch dict of them) on ``device``. On CUDA the host copy is pinned first, so the copy
    is asynchronous: from pageable memory CUDA may wait for the queued work first, a host sync per batch."""
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    if not torch.is_tensor(value):
        return value
    device = torch.device(device)
    if device.type == "cuda" and value.device.type == "cpu":
        return value.pin_memory().to(device, non_blocking=True)
    return value.to(device)


def default_device(local_rank=0):
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def set_threads(num_threads, processes_per_machine=1):
    """Intra-op threads: the configured number, else the cores shared among this machine's processes."""
    if num_threads:
        torch.set_num_threads(int(num_threads))
    elif processes_per_machine > 1 and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // processes_per_machine))
