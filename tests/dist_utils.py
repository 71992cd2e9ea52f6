"""Run a function in 2 processes with torch.distributed (gloo, CPU)."""
import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _entry(rank, world, init_file, fn, args):
    torch.set_num_threads(1)
    torch.manual_seed(0)  # same initial networks on every process, as DDP would make them
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world)
    try:
        fn(rank, world, *args)
    finally:
        dist.destroy_process_group()


def run_distributed(fn, *args, world: int = 2) -> None:
    """Call ``fn(rank, world, *args)`` in ``world`` processes; re-raises their failures."""
    fd, init_file = tempfile.mkstemp(prefix='emanplug-dist-')
    os.close(fd)
    os.remove(init_file)
    try:
        mp.spawn(_entry, args=(world, init_file, fn, args), nprocs=world, join=True)
    finally:
        if os.path.exists(init_file):
            os.remove(init_file)


def worker_env(root, **extra) -> dict:
    """This process's environment for a spawned worker, with ``root`` first on PYTHONPATH (and
    the PYTHONPATH it had kept: an install next to the machine's own torch lives there)."""
    path = os.pathsep.join(p for p in (str(root), os.environ.get('PYTHONPATH')) if p)
    return dict(os.environ, PYTHONPATH=path, **extra)
