"""Training on a CPU that other processes use too: fewer threads while the cores are busy.

PyTorch's CPU kernels run on one OpenMP thread per core, and OpenMP threads spin while they
wait for each other.  Two trainings on a 2-core machine then each run two spinning threads
on two cores, and each step waits for a thread that is descheduled: measured here, the
quickstart's iterations became 8x slower (bench/contention.py, docs/bench/contention.md).
Every few seconds :class:`CPUShare` measures how many cores *other* processes kept busy
(``/proc/stat`` minus this process and its data-loader workers) and gives this process's
PyTorch the cores that are left (at least one, at most the threads it started with); alone
on the machine it changes nothing.
"""
import os
import time
from typing import Callable, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

Sample = Tuple[float, float, float]  # (all cores' busy seconds, this process's, wall seconds)


def _ticks() -> float:
    return float(os.sysconf('SC_CLK_TCK'))


def _process_seconds(pid: str) -> float:
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / _ticks()  # utime + stime


def own_cpu_seconds() -> float:
    """CPU seconds of this process (all threads) and of its live children (data-loader
    workers), read from /proc."""
    me = os.getpid()
    total = _process_seconds('self')
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as f:
                if int(f.read().rpartition(')')[2].split()[1]) == me:
                    total += _process_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent outside idle and iowait since boot (/proc/stat)."""
    with open('/proc/stat') as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / _ticks()


def proc_sample() -> Sample:
    return machine_busy_seconds(), own_cpu_seconds(), time.monotonic()


class CPUShare:
    """Sets PyTorch's thread count to the cores other processes leave free.

    Args:
        max_threads (int): the most threads to use (default: ``torch.get_num_threads()`` now).
        sample (callable): returns ``(machine busy s, own busy s, wall s)``; /proc by default.

    Example:
        >>> share = CPUShare()
        >>> share.start()            # before training
        >>> share.adjust()           # every few seconds: returns the thread count it set
    """

    def __init__(self, max_threads: Optional[int] = None,
                 sample: Callable[[], Sample] = proc_sample) -> None:
        self.max_threads = max_threads or torch.get_num_threads()
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
        self.sample = sample
        self.last: Optional[Sample] = None
        self.threads = self.max_threads

    def start(self) -> None:
        self.last = self.sample()

    def others_busy(self) -> Optional[float]:
        """Cores kept busy by other processes since the last call (None before a window)."""
        now = self.sample()
        last, self.last = self.last, now
        if last is None or now[2] - last[2] <= 0:
            return None
        return max(0.0, ((now[0] - last[0]) - (now[1] - last[1])) / (now[2] - last[2]))

    def adjust(self) -> int:
        """Measure, set ``torch.set_num_threads`` and return the thread count."""
        others = self.others_busy()
        if others is None:
            return self.threads
        free = self.cores - int(others + 0.5)  # a core counts as taken when half busy
        threads = max(1, min(self.max_threads, free))
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        self.threads = threads
        return threads


@HOOKS.register_module()
class CPUShareHook(Hook):
    """Adapts the number of PyTorch threads to the CPU left by other processes (CPU runs).

    Added by ``tools/train.py`` to every run without a GPU (``dict(type='CPUShareHook',
    enabled=False)`` in ``custom_hooks`` or ``EMANPLUG_CPU_POLICY=off`` turns it off).  Every
    ``interval_s`` seconds of training it measures the cores other processes used and sets
    this process's threads to the rest (at least 1, never more than at the start); the
    threads it started with are restored after training.  A change is logged in one line.

    Args:
        interval_s (float): seconds between measurements. Default 2.
        enabled (bool): False turns the hook off. Default True.
    """

    priority = 'LOW'

    def __init__(self, interval_s: float = 2.0, enabled: bool = True) -> None:
        from ..errors import ConfigError
        if not isinstance(interval_s, (int, float)) or interval_s <= 0:
            raise ConfigError(f'CPUShareHook.interval_s={interval_s!r}; allowed: seconds > 0')
        self.interval_s = float(interval_s)
        self.enabled = enabled and os.environ.get('EMANPLUG_CPU_POLICY', '') != 'off'
        self.share: Optional[CPUShare] = None
        self._next = 0.0

    def before_train(self, runner) -> None:
        if not self.enabled or torch.cuda.is_available() or not os.path.exists('/proc/stat'):
            return
        self.share = CPUShare()
        self.share.start()
        self._next = time.monotonic() + self.interval_s

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.share is None or time.monotonic() < self._next:
            return
        before = self.share.threads
        threads = self.share.adjust()
        self._next = time.monotonic() + self.interval_s
        if threads != before:
            runner.logger.info(f'CPUShareHook: other processes use the CPU; {threads} of '
                               f'{self.share.max_threads} threads' if threads < self.share.max_threads
                               else f'CPUShareHook: the CPU is free again; {threads} threads')

    def after_train(self, runner) -> None:
        if self.share is not None:
            torch.set_num_threads(self.share.max_threads)
            self.share = None
