"""End to end on a fake ImageNet: the generator (emanplug-fake-imagenet), and every ImageNet
config (``configs/{mocov2,byol,fixmatch}/*in1k*.py``) trained 2 iterations with 2 gloo
processes through tools/train.py's code path (tests/imagenet_smoke_driver.py); the frozen
benchmarks (``configs/*/benchmarks/*_frozen_in1k.py``, ``*_lowshot_voc07.py``) evaluated by
emanplug-test (kNN on the fake ImageNet, VOC07 low-shot on a generated VOC folder).

The training runs are the ``smoke`` tests: they run only with EMANPLUG_SMOKE=1 (about 5 minutes
on 2 CPU cores for the 78 configs; .ci/run runs them after the default suite):

    EMANPLUG_SMOKE=1 bash tools/run_tests.sh -q tests/test_imagenet_smoke.py
"""
import json
import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import config_ledger as ledger
from dist_utils import worker_env

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ('mocov2', 'byol', 'fixmatch', 'mocov2-benchmarks', 'byol-benchmarks')  # in this order:
# FixMatch's MoCo-initialised rows and the evaluation configs (linear, fine-tuning) read the
# checkpoints of the MoCo / BYOL family's runs (the driver trains them itself when missing)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_fake_imagenet(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_fake_imagenet.py'), str(root), *args],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_fake_imagenet_serves_both_layouts_and_the_split_files(tmp_path, capsys):
    """The generator's code in this process (emanplug-fake-imagenet's run()); its script,
    tools/make_fake_imagenet.py, in a process of its own for the refusal at the end."""
    from mmpretrain.datasets import CustomDataset, ImageNet

    from emanplug.cli import fake_imagenet as generator
    from emanplug.datasets.splits import resolve_split
    from emanplug.datasets.semi_supervised import relative_image_paths
    root = tmp_path / 'imagenet'
    assert generator.run([str(root), '--classes', '3', '--train-per-class', '5', '--val-per-class', '2',
                          '--size', '40']) == str(root)
    assert '3 classes, 15 train and 6 val images' in capsys.readouterr().out
    train = ImageNet(data_root=str(root), split='train')  # mmpretrain's layout: meta/train.txt
    val = ImageNet(data_root=str(root), split='val')
    assert len(train) == 15 and len(val) == 6
    assert sorted({train.get_data_info(i)['gt_label'] for i in range(15)}) == [0, 1, 2]
    folder = CustomDataset(data_root=str(root), data_prefix='val')  # ImageFolder layout
    assert len(folder) == 6 and folder.metainfo['classes'] == ('n01440764', 'n01443537', 'n01484850')
    lines = (root / 'meta' / 'val.txt').read_text().splitlines()
    assert all((root / 'val' / line.split()[0]).is_file() for line in lines)
    images = CustomDataset(data_root=str(root), data_prefix='train')
    for name in ('10percent.txt', '1percent.txt'):  # bare file names, one per class at least
        chosen = resolve_split(str(root / 'splits' / name), relative_image_paths(images),
                               images.metainfo['classes'])
        assert sorted(images.get_data_info(i)['gt_label'] for i in chosen) == [0, 1, 2]
    from PIL import Image
    with Image.open(next((root / 'train' / 'n01440764').iterdir())) as img:
        assert img.format == 'JPEG' and min(img.size) == 40 and max(img.size) <= 53
    # rewriting its own folder is allowed; a foreign non-empty folder is refused in one line
    generator.run([str(root), '--classes', '2'])
    assert sorted(p.name for p in (root / 'train').iterdir()) == ['n01440764', 'n01443537']
    (tmp_path / 'real').mkdir()
    (tmp_path / 'real' / 'x.txt').write_text('x')
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_fake_imagenet.py'),
                             str(tmp_path / 'real')], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 1 and result.stderr.strip().startswith('error: out=')
    assert 'Traceback' not in result.stderr and (tmp_path / 'real' / 'x.txt').exists()


@pytest.fixture(scope='module')
def fake_imagenet(tmp_path_factory):
    root = tmp_path_factory.mktemp('fake') / 'imagenet'
    # 8 train images per class: FixMatch's 28 unlabeled images fill 2 iterations at mu 2
    make_fake_imagenet(root, '--classes', '4', '--train-per-class', '8', '--val-per-class', '4',
                       '--size', '80')
    return root


@pytest.fixture(scope='module')
def smoke_runs(tmp_path_factory):
    return tmp_path_factory.mktemp('smoke_runs')


def check_frozen_results(name, run):
    """emanplug-test's metrics of a frozen benchmark: kNN top-1 (a fraction) of the student for
    ``*_frozen_*``, low-shot mAP (%) at k = 1, 2, 4, 8, 16 (mean and sd over the draws) for VOC07."""
    results = run['results']
    if name.endswith('_lowshot_voc07'):
        assert run['protocol'] == 'lowshot', run
        assert sorted(results) == sorted(f'lowshot/student_{k}shot{s}' for k in (1, 2, 4, 8, 16) for s in ('', '_std'))
        assert all(0 <= results[f'lowshot/student_{k}shot'] <= 100 for k in (1, 2, 4, 8, 16)), results
    else:
        assert run['protocol'] == 'knn' and list(results) == ['knn/student_top1'], run
        assert 0 <= results['knn/student_top1'] <= 1, results


@pytest.mark.smoke
@pytest.mark.dist
@pytest.mark.parametrize('group', ['imagenet-mocov2', 'imagenet-byol', 'imagenet-fixmatch',  # FAMILIES' order
                                   'imagenet-mocov2-benchmarks', 'imagenet-byol-benchmarks'])
def test_every_imagenet_config_trains_two_iterations(group, fake_imagenet, smoke_runs):
    family = group.split('-', 1)[1]
    configs = ledger.names(group)  # tests/config_ledger.py: the configs this test trains
    assert configs and family in FAMILIES, group
    out = smoke_runs / f'{family}.json'
    # 2 CPU processes with gloo, also on a machine with GPUs
    env = worker_env(ROOT, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}',
           str(ROOT / 'tests' / 'imagenet_smoke_driver.py'), group, str(fake_imagenet), str(smoke_runs), str(out)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-5000:]
    summary = json.loads(out.read_text())
    print(f'{family}: {len(configs)} configs in {summary["seconds"]} s')
    assert summary['configs'] == configs
    runs = summary['runs']
    failed = {name: runs[name].get('error') for name in configs if runs.get(name, {}).get('error')}
    assert not failed, '\n'.join(f'{n}: {e}\n{runs[n].get("traceback", "")}' for n, e in failed.items())
    for name in configs:
        run = runs[name]
        if run.get('frozen'):  # a frozen benchmark, evaluated by emanplug-test (nothing trained)
            assert family.endswith('-benchmarks') and name.endswith(('_frozen_in1k', '_lowshot_voc07')), name
            assert run['checkpoint'].endswith(f'official_{family.split("-")[0]}.pth.tar'), run
            check_frozen_results(name, run)
            continue
        assert not re.search(r'_(frozen|lowshot)_', name), name  # trained: a frozen config must not be
        evaluation = family.endswith('-benchmarks')  # a classifier on a pretrained backbone
        teacher = not evaluation and not name.endswith('_default')  # FixMatch's default: one model
        assert run['iters'] == 2 and run['epochs'] == 1, name
        assert len(run['losses']) == 2 and all(math.isfinite(x) for x in run['losses']), (name, run['losses'])
        assert run['checkpoint'] and run['checkpoint_finite'], name
        assert run['checkpoint_teacher'] == teacher, name
        assert 'NonFiniteGuardHook' in run['hooks'] and ('EMANHook' in run['hooks']) == teacher, name
        if teacher:
            assert run['teacher_dtypes'] == ['torch.float32'], name
        if name.startswith('byol_'):  # BYOL's recipe (Momentum^2 Teacher's rows use SGD)
            assert run['optimizer'] == 'LARS', name
        if 'KNNEvalHook' in run['hooks']:  # the Table 1/8 families: untrained, then after epoch 1
            assert run['knn_epochs'] == [0, 1], name
            keys = {'knn/student_top1', 'knn/teacher_top1', 'knn/student_teacher_cos'}
            assert all(set(r) == keys for r in run['knn']), (name, run['knn'])
            assert all(-1 <= r['knn/student_teacher_cos'] <= 1 + 1e-6 for r in run['knn']), (name, run['knn'])
        if family == 'fixmatch':
            assert {'val/top1', 'val/top5'} <= set(run['val']), (name, run['val'])
            assert ('val/teacher/top1' in run['val']) == teacher, (name, run['val'])
        if evaluation:  # top-1 / top-5 after the epoch; the backbone is the pretraining run's student
            assert {'val/accuracy/top1', 'val/accuracy/top5'} <= set(run['val']), (name, run['val'])
            init, method = run['init'], family.split('-')[0]
            assert init and init['student'] and init['teacher'] is None, (name, init)
            assert re.search(rf'/{method}_resnet50_8xb\d+-coslr-200e_in1k_bn-eman/epoch_1.pth$', init['checkpoint']), init
        if '_from-mocov2-' in name:  # initialised from the MoCo run, in student and teacher
            init = run['init']
            assert init and init['student'] and init['teacher'] in ((True,) if teacher else (None,)), (name, init)
            source = name.split('_from-mocov2-')[1].split('_')[0]
            assert init['checkpoint'].endswith(f'mocov2_resnet50_8xb32-coslr-200e_in1k_{source}/epoch_1.pth'), init
    if family == 'mocov2':
        assert sum('KNNEvalHook' in runs[n]['hooks'] for n in configs) == 14  # the 100-epoch family
