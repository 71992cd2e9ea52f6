"""CPUShareHook: fewer PyTorch threads while other processes keep the cores busy, all of them
again when the machine is free; never more than at the start.  The speed-up itself is measured
in bench/contention.py (docs/bench/contention.md), not here."""
import os

import pytest
import torch

from emanplug.cli.runner import prepare_config
from emanplug.errors import ConfigError
from emanplug.hooks.cpu_share import CPUShare, CPUShareHook, own_cpu_seconds, proc_sample


class FakeMachine:
    """Samples as /proc would give them: ``others`` cores busy besides this process's ``own``."""

    def __init__(self):
        self.busy = self.own = self.wall = 0.0

    def run(self, seconds, own, others):
        self.wall += seconds
        self.own += own * seconds
        self.busy += (own + others) * seconds

    def __call__(self):
        return self.busy, self.own, self.wall


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_follow_the_cores_other_processes_leave(threads, monkeypatch):
    machine = FakeMachine()
    share = CPUShare(max_threads=2, sample=machine)
    share.cores = 2
    share.start()
    machine.run(2, own=2, others=0)  # alone: both threads
    assert share.adjust() == 2
    machine.run(2, own=1, others=1.9)  # another training started
    assert share.adjust() == 1 and torch.get_num_threads() == 1
    machine.run(2, own=1, others=1.0)  # both now on one core each: stays
    assert share.adjust() == 1
    machine.run(2, own=1, others=0.1)  # the other one ended
    assert share.adjust() == 2 and torch.get_num_threads() == 2
    machine.run(2, own=2, others=5)  # never fewer than one thread
    assert share.adjust() == 1


def test_never_more_threads_than_at_the_start(threads):
    machine = FakeMachine()
    share = CPUShare(max_threads=1, sample=machine)
    share.cores = 8
    share.start()
    machine.run(2, own=1, others=0)
    assert share.adjust() == 1


def test_proc_readings_are_this_process():
    busy, own, wall = proc_sample()
    assert 0 < own <= busy and wall > 0
    x = torch.randn(400, 400)
    before = own_cpu_seconds()
    for _ in range(200):
        x = (x @ x).tanh()
    assert own_cpu_seconds() > before


@pytest.mark.parametrize('cuda', [False, True], ids=['cpu-machine', 'cuda-machine'])
def test_train_adds_the_hook_on_cpu_and_it_can_be_turned_off(cuda, monkeypatch):
    from mmengine.config import Config
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)  # the same on every machine
    cfg = prepare_config(Config(dict(model=dict(type='X'))), work_dir='/tmp/x')
    added = [h['type'] for h in cfg.custom_hooks if h['type'] == 'CPUShareHook']
    assert added == ([] if cuda else ['CPUShareHook'])  # with CUDA the GPU does the work: not added
    off = prepare_config(Config(dict(custom_hooks=[dict(type='CPUShareHook', enabled=False)])),
                         work_dir='/tmp/x')
    assert [h for h in off.custom_hooks if h['type'] == 'CPUShareHook'] == [
        dict(type='CPUShareHook', enabled=False)]
    assert not CPUShareHook(enabled=False).enabled


def test_environment_switch_and_bad_interval(monkeypatch):
    monkeypatch.setenv('EMANPLUG_CPU_POLICY', 'off')
    assert not CPUShareHook().enabled
    with pytest.raises(ConfigError, match=r'CPUShareHook.interval_s=0; allowed: seconds > 0'):
        CPUShareHook(interval_s=0)
