"""Every CIFAR-10 / digits config that the default suite does not train (the ``cifar-*`` groups of
tests/config_ledger.py: the CPU-budget MoCo / BYOL families and their -bnwarm10 / -m98 / -m995
variants, the FixMatch 800 / 2000 / 4000 / 8000-iteration and 250-label families, the main
configs, the linear / fine-tuning benchmarks, the quickstart, the MoCo / BYOL CIFAR-10 evaluation
configs) trained 2 iterations with 2 gloo processes, all groups in one process group
(tests/cifar_smoke_driver.py); the frozen ones (kNN) evaluated by emanplug-test.

Smoke tests: they run only with EMANPLUG_SMOKE=1 (.ci/run runs them after the default suite):

    EMANPLUG_SMOKE=1 bash tools/run_tests.sh -q tests/test_cifar_smoke.py
"""
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import config_ledger as ledger
from dist_utils import worker_env
from test_imagenet_smoke import free_port

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ['cifar-mocov2', 'cifar-byol', 'cifar-fixmatch', 'cifar-evaluation', 'cifar-benchmarks']


@pytest.fixture(scope='module')
def small_runs(cifar_root, tmp_path_factory):
    """The driver's summary of every config of GROUPS (one torchrun for all of them)."""
    from emanplug.cli import split as make_split
    splits = cifar_root / 'splits'
    make_split.run([str(cifar_root), '--num-labeled', '20', '--out', str(splits / 'smoke_train.txt')])
    make_split.run([str(cifar_root), '--num-labeled', '10', '--subset', 'test',
                    '--out', str(splits / 'smoke_test.txt')])
    work = tmp_path_factory.mktemp('small_runs')
    out = work / 'summary.json'
    env = worker_env(ROOT, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}',
           str(ROOT / 'tests' / 'cifar_smoke_driver.py'), str(cifar_root), str(work), str(out), *GROUPS]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-5000:]
    summary = json.loads(out.read_text())
    print(f'{sum(map(len, summary["groups"].values()))} configs in {summary["seconds"]} s')
    return summary


@pytest.mark.smoke
@pytest.mark.dist
@pytest.mark.parametrize('group', GROUPS)
def test_every_small_config_trains_two_iterations(group, small_runs):
    configs = ledger.names(group)
    assert small_runs['groups'][group] == configs
    runs = small_runs['runs']
    failed = {name: runs[name].get('error') for name in configs if runs.get(name, {}).get('error')}
    assert not failed, '\n'.join(f'{n}: {e}\n{runs[n].get("traceback", "")}' for n, e in failed.items())
    for name in configs:
        run = runs[name]
        pretraining = re.match(r'resnet18_(mocov2|byol)-pre_', name)  # configs/{mocov2,byol}/benchmarks/
        pretraining = pretraining and f'{pretraining.group(1)}_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman/epoch_1.pth'
        if run.get('frozen'):  # a frozen benchmark: kNN by emanplug-test from the BN/EMAN smoke run
            assert group == 'cifar-benchmarks' and name.endswith('_frozen_cifar10'), name
            assert run['protocol'] == 'knn' and run['checkpoint'].endswith(pretraining), run
            assert list(run['results']) == ['knn/student_top1'] and 0 <= run['results']['knn/student_top1'] <= 1, run
            continue
        assert '_frozen_' not in name, name  # trained: a frozen config must not be
        teacher = 'EMANHook' in run['hooks']
        assert run['iters'] == 2, name
        assert len(run['losses']) == 2 and all(math.isfinite(x) for x in run['losses']), (name, run['losses'])
        assert run['checkpoint'] and run['checkpoint_finite'], name
        assert run['checkpoint_teacher'] == teacher, name
        assert 'NonFiniteGuardHook' in run['hooks'], name
        if teacher:
            assert run['teacher_dtypes'] == ['torch.float32'], name
        if name.startswith(('fixmatch_', 'linear_', 'finetune_')):  # validated after the 2nd iteration
            assert any(k.endswith('top1') for k in run['val']), (name, run['val'])
        if pretraining:  # linear on 100 / 10 / 1 %: validated, from a released-layout ResNet-18 (the driver's doc)
            assert any(k.endswith('top1') for k in run['val']), (name, run['val'])
            init = run['init']
            assert init and init['student'] and init['teacher'] is None, (name, init)
            family = name.split('_')[1].split('-')[0]
            assert init['checkpoint'].endswith(f'official_{family}_resnet18.pth.tar'), (name, init)
        if name.startswith(('linear_', 'finetune_')):  # the backbone of the MoCo run's student
            init = run['init']
            assert init and init['student'], (name, init)
            assert init['checkpoint'].endswith('mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman/epoch_1.pth')
        if 'KNNEvalHook' in run['hooks']:  # the monitor ran after the epoch (its numbers: 2 images a batch)
            assert run['knn_epochs'] and run['knn_epochs'][-1] == 1, (name, run['knn_epochs'])
