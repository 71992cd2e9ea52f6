"""2-process (gloo, CPU) runs of the CIFAR-10 configs: every (method x scheme) cell through
tools/train.py, and a couple through tools/dist_train.sh itself."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emanplug.core import build_scheme, momentum_bn_weight
from emanplug.core.schemes import SCHEMES
import config_ledger as ledger
from dist_utils import worker_env

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.dist


def torchrun(args, timeout=900):
    env = worker_env(ROOT, OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           '--master_port=29531'] + args
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize('group', ['cells-mocov2', 'cells-byol'])
def test_every_scheme_cell_trains_in_two_processes(group, cifar_root, tmp_path):
    out = tmp_path / 'summary.json'
    result = torchrun([str(ROOT / 'tests' / 'dist_cells_driver.py'), str(cifar_root), str(out), group])
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert sorted(summary) == ledger.names(group)  # the ledger's rows, each trained
    method = group.split('-')[1]
    assert len(summary) == (13 if method == 'mocov2' else 12)
    missing = sorted(set(SCHEMES) - {build_scheme(cell['token']).name for cell in summary.values()})
    assert not missing, f'{method}: no CIFAR-10 cell for the registered scheme(s) {missing}'
    for name, cell in summary.items():
        assert cell['ok'], (name, cell['student'], cell['teacher'], cell['expected'])
        assert cell['iters'] == cell['checked'] >= 2, name  # eq. (1)/(9) held at every iteration
        assert all(abs(x) < 1e4 for x in cell['losses']), name
        if cell['token'] == 'bn-momentumbn':
            # update(k, K) after the last iteration set the progress K / K: batch weight 0
            assert cell['momentumbn_weight'] == [pytest.approx(momentum_bn_weight(1.0), abs=1e-9)]
        if cell['token'] == 'bn-studentpn0.999':
            assert cell['student_bn_momentum'] == [pytest.approx(0.001)]


def test_dist_train_sh_runs_moco_shufflebn_on_cpu(cifar_root, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT='29532')
    cmd = ['bash', str(ROOT / 'tools' / 'dist_train.sh'),
           str(ROOT / 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-shufflebn.py'), '2',
           '--work-dir', str(tmp_path), '--cfg-options', f'train_dataloader.dataset.data_root={cifar_root}',
           'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1']
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / 'epoch_1.pth').exists()
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'kNN (k=200) after epoch 1' in log and 'Epoch(train) [1][2/2]' in log


def test_dist_train_sh_bad_config_is_one_line(tmp_path):
    cmd = ['bash', str(ROOT / 'tools' / 'dist_train.sh'),
           str(ROOT / 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman.py'), '2',
           '--cfg-options', 'model.scheme=bn-fancy']
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: model.scheme: scheme='bn-fancy' is unknown")
