"""FixMatch: the pseudo-label path, split files, the semi-supervised dataset, and 2-process runs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import emanplug  # noqa: F401
from emanplug.datasets import balanced_split, read_split, resolve_split, write_split
from emanplug.errors import ConfigError
from emanplug.models import fixmatch_loss
import config_ledger as ledger
from dist_utils import worker_env

ROOT = Path(__file__).resolve().parents[1]


def test_confident_right_teacher_gives_cross_entropy_against_true_labels():
    torch.manual_seed(0)
    true = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    weak = F.one_hot(true, 10).float() * 50  # always confident (p ~ 1) and right
    strong = torch.randn(8, 10, requires_grad=True)
    out = fixmatch_loss(torch.randn(4, 10), torch.tensor([0, 1, 2, 3]), weak, strong,
                        threshold=0.95, unsup_weight=1.0, unlabeled_labels=true)
    assert torch.allclose(out['loss_u'], F.cross_entropy(strong, true))
    assert out['mask_rate'].item() == 1.0 and out['pseudo_acc'].item() == 1.0
    out['loss_u'].backward()
    assert strong.grad.abs().sum() > 0


def test_below_threshold_contributes_nothing():
    weak = torch.zeros(6, 10)  # uniform: confidence 0.1 < threshold
    weak[0, 2] = 50  # one confident sample
    strong = torch.randn(6, 10)
    out = fixmatch_loss(torch.randn(2, 10), torch.tensor([0, 1]), weak, strong, 0.95, 2.0)
    expected = 2.0 * F.cross_entropy(strong[:1], torch.tensor([2])) / 6  # mean over all 6
    assert torch.allclose(out['loss_u'], expected)
    assert out['mask_rate'].item() == pytest.approx(1 / 6)
    none = fixmatch_loss(torch.randn(2, 10), torch.tensor([0, 1]), torch.zeros(6, 10), strong, 0.95, 1.0)
    assert none['loss_u'].item() == 0.0 and none['mask_rate'].item() == 0.0


def test_the_teacher_makes_the_pseudo_labels(monkeypatch):
    from mmpretrain.structures import DataSample
    from emanplug.models import FixMatch
    cfg = dict(backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8, stem_channels=8),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=10, in_channels=64))
    model = FixMatch(**cfg, scheme='bn-eman', threshold=0.95)
    true = torch.tensor([1, 7, 3])
    calls = []

    def oracle(x):  # a teacher that is always confident and right
        calls.append(x.shape[0])
        return F.one_hot(true, 10).float() * 50

    monkeypatch.setattr(model.teacher, 'forward', oracle)
    inputs = dict(labeled=torch.randn(1, 3, 16, 16), weak=torch.randn(1, 3, 3, 16, 16),
                  strong=torch.randn(1, 3, 3, 16, 16))  # 1 labeled + mu = 3 unlabeled images
    sample = DataSample().set_gt_label(0)
    sample.set_field(true, 'unlabeled_label', field_type='metainfo')
    model.eval()  # fixed BN statistics, so that the logits can be recomputed exactly
    out = model.loss(inputs, [sample])
    strong_logits = model.logits(torch.cat([inputs['labeled'], inputs['strong'].flatten(0, 1)]))[1:]
    assert calls == [3]
    assert out['mask_rate'].item() == 1.0 and out['pseudo_acc'].item() == 1.0
    assert torch.allclose(out['loss_u'], F.cross_entropy(strong_logits, true), atol=1e-4)


def test_balanced_split_is_deterministic_and_balanced():
    labels = [i % 10 for i in range(1000)]
    a, b = balanced_split(labels, 250, seed=3), balanced_split(labels, 250, seed=3)
    assert a == b and len(a) == 250 and balanced_split(labels, 250, seed=4) != a
    counts = torch.bincount(torch.tensor([labels[i] for i in a]), minlength=10)
    assert counts.tolist() == [25] * 10
    assert len(balanced_split(labels, 0.1, seed=0)) == 100
    with pytest.raises(ConfigError, match='not divisible by the 10 classes'):
        balanced_split(labels, 45)


def test_split_files_resolve_and_fail_clearly(tmp_path):
    paths = [f'{c}/{i:04d}.jpg' for c in ('cat', 'dog') for i in range(5)]
    split = tmp_path / 'split.txt'
    write_split(str(split), ['dog/0003.jpg', 'cat/0001.jpg'])
    assert resolve_split(str(split), paths, ['cat', 'dog']) == [1, 8]
    csv = tmp_path / 'split.csv'
    csv.write_text('filename,label\n0002.jpg,cat\n')  # published lists: bare names
    with pytest.raises(ConfigError, match="file '0002.jpg' is not in the dataset"):
        resolve_split(str(csv), paths, ['cat', 'dog'])  # ambiguous bare name (cat/ and dog/)
    unique = [f'{c}/{c}_{i}.jpg' for c in ('cat', 'dog') for i in range(3)]
    csv.write_text('filename,label\ndog_2.jpg,dog\n')
    assert resolve_split(str(csv), unique, ['cat', 'dog']) == [5]
    bad = tmp_path / 'bad.txt'
    bad.write_text('cat/0001.jpg\nbird/0001.jpg\n')
    with pytest.raises(ConfigError) as err:
        resolve_split(str(bad), paths, ['cat', 'dog'])
    assert str(err.value).startswith(f"split {bad}, line 2: unknown class 'bird'; allowed: cat, dog")
    bad.write_text('cat/0042.jpg\n')
    with pytest.raises(ConfigError, match="line 1: file 'cat/0042.jpg' is not in the dataset"):
        resolve_split(str(bad), paths, ['cat', 'dog'])
    with pytest.raises(ConfigError, match='does not exist'):
        read_split(str(tmp_path / 'missing.txt'))


def test_make_split_tool_and_dataset(cifar_root, tmp_path):
    from emanplug.cli import split as make_split
    out = make_split.run([str(cifar_root), '--num-labeled', '20', '--seed', '1',
                           '--out', str(tmp_path / 's.txt')])
    lines = Path(out).read_text().split()
    assert len(lines) == 20 and len({l.split('/')[0] for l in lines}) == 10
    assert make_split.run([str(cifar_root), '--num-labeled', '20', '--seed', '1',
                            '--out', str(tmp_path / 't.txt')]) and \
        Path(tmp_path / 't.txt').read_text() == Path(out).read_text()
    from mmpretrain.registry import DATASETS
    pack = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    two = [dict(type='LoadImageFromFile'), dict(type='MultiView', num_views=2, transforms=[[]]),
           dict(type='PackInputs')]
    ds = DATASETS.build(dict(type='SemiSupervisedDataset', split_file=out, mu=3,
                             dataset=dict(type='CustomDataset', data_root=str(cifar_root), data_prefix='train'),
                             labeled_pipeline=pack, unlabeled_pipeline=two))
    assert len(ds.labeled) == 20 and len(ds.unlabeled) == 60 and not set(ds.labeled) & set(ds.unlabeled)
    assert len(ds) == 20
    item = ds[0]
    assert item['inputs']['weak'].shape == (3, 3, 32, 32) == item['inputs']['strong'].shape
    assert item['data_samples'].unlabeled_label.shape == (3,)


def test_missing_split_file_stops_before_training(cifar_root, tmp_path):
    from emanplug.cli import train
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"_base_ = {str(ROOT / 'configs/fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_bn-eman.py')!r}\n"
                   f"train_dataloader = dict(dataset=dict(dataset=dict(data_root={str(cifar_root)!r}),"
                   f" split_file={str(tmp_path / 'nope.txt')!r}))\n"
                   f"val_dataloader = dict(dataset=dict(data_root={str(cifar_root)!r}))\n")
    with pytest.raises(ConfigError, match=r"train_dataloader.dataset.split_file=.* does not exist; "
                                          r"allowed: a split written by tools/make_split.py"):
        train.run([str(cfg), '--work-dir', str(tmp_path / 'w')])


@pytest.mark.dist
def test_every_fixmatch_mode_trains_in_two_processes(cifar_root, tmp_path):
    from emanplug.cli import split as make_split
    split = make_split.run([str(cifar_root), '--num-labeled', '20', '--out', str(tmp_path / 's.txt')])
    out = tmp_path / 'summary.json'
    env = worker_env(ROOT, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29533',
         str(ROOT / 'tests' / 'dist_cells_driver.py'), str(cifar_root), str(out), 'cells-fixmatch', split],
        env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert sorted(summary) == ledger.names('cells-fixmatch')  # the ledger's rows, each trained
    assert len(summary) == 14  # default + 13 teacher schemes
    for name, cell in summary.items():
        assert cell['ok'], (name, cell['student'], cell['teacher'], cell['expected'])
        assert cell['iters'] == cell['checked'] == 3, name
        assert all(0.0 <= m <= 1.0 for m in cell['mask_rate']), name
        assert all(abs(x) < 1e4 for x in cell['losses']), name
        assert 'val/student/top1' in cell['val'], name
        if cell['token'] != 'default':
            assert 'val/teacher/top1' in cell['val'], name


def test_backbone_from_a_moco_teacher_and_test_tool(cifar_root, tmp_path):
    """MoCo run -> its teacher's backbone initialises FixMatch -> tools/test.py reports
    student and teacher accuracy; tools/test.py on the MoCo checkpoint reports kNN."""
    from emanplug.cli import split as make_split
    from emanplug.cli import test as test_tool
    from emanplug.cli import train
    narrow = "backbone=dict(stem_channels=16, base_channels=16)"
    moco = tmp_path / 'moco.py'
    moco.write_text(
        f"_base_ = {str(ROOT / 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman.py')!r}\n"
        f"model = dict({narrow}, neck=dict(in_channels=128))\n"
        f"train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,"
        f" dataset=dict(data_root={str(cifar_root)!r}))\n"
        "train_cfg = dict(max_epochs=1)\n"
        "custom_hooks = [dict(type='EMANHook'), dict(type='KNNEvalHook', k=5, num_workers=0, at_start=False,"
        " bank=dict(data_prefix='train', pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]),"
        " query=dict(data_prefix='test', pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))]\n")
    moco_runner = train.run([str(moco), '--work-dir', str(tmp_path / 'moco')])
    ckpt = tmp_path / 'moco' / 'epoch_1.pth'
    knn = test_tool.run([str(moco), str(ckpt), '--work-dir', str(tmp_path / 'knn')])
    assert 0.0 <= knn['knn/student_top1'] <= 1.0 and 'knn/teacher_top1' in knn
    assert json.loads((tmp_path / 'knn' / 'knn_results.json').read_text())['knn/student_top1'] == \
        knn['knn/student_top1']
    retrieval = test_tool.run([str(moco), str(ckpt), '--protocol', 'retrieval',
                                '--work-dir', str(tmp_path / 'knn')])
    assert 0 <= retrieval['retrieval/teacher_mAP'] <= 100 and 'retrieval/student_recall' in retrieval
    # precise BN: each backbone again with statistics re-estimated from its own weights;
    # the checkpoint's own numbers are unchanged (the statistics are swapped back)
    precise = test_tool.run([str(moco), str(ckpt), '--precise-bn', '2',
                             '--work-dir', str(tmp_path / 'knn')])
    assert precise['knn/teacher_top1'] == knn['knn/teacher_top1']
    assert precise['knn/student_top1'] == knn['knn/student_top1']
    for which in ('student', 'teacher'):
        assert 0.0 <= precise[f'knn/{which}_precisebn_top1'] <= 1.0
        assert precise[f'precisebn/{which}_gap_mean'] > 0 and precise[f'precisebn/{which}_gap_logvar'] > 0
    with pytest.raises(ConfigError, match='--precise-bn with --protocol retrieval; allowed'):
        test_tool.run([str(moco), str(ckpt), '--protocol', 'retrieval', '--precise-bn', '2'])
    # the study over a run's checkpoints: one record per run, resumable, and its table
    import importlib.util
    spec = importlib.util.spec_from_file_location('teacher_statistics', ROOT / 'bench' / 'teacher_statistics.py')
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    records, out = tmp_path / 'records', tmp_path / 'ts'
    study.main([str(tmp_path / 'moco'), '--batches', '2', '--records', str(records), '--out', str(out)])
    record = json.loads((records / 'moco.json').read_text())
    assert record['scheme'] == 'bn-eman' and record['batches'] == 2
    assert record['epochs']['1']['knn/teacher_precisebn_top1'] == \
        pytest.approx(precise['knn/teacher_precisebn_top1'], abs=1e-5)
    assert '| moco | bn-eman |' in (tmp_path / 'ts.md').read_text()
    from emanplug.cli import summarize  # the results tool on this real run
    runs = summarize.run([str(tmp_path / 'moco'), '--out', str(tmp_path / 'summary')])
    assert [(r['method'], r['scheme']) for r in runs] == [('MoCo', 'bn-eman')]
    assert '| bn-eman | ' in (tmp_path / 'summary.md').read_text()
    assert (tmp_path / 'summary.png').stat().st_size > 1000

    split = make_split.run([str(cifar_root), '--num-labeled', '20', '--out', str(tmp_path / 's.txt')])
    linear = tmp_path / 'linear.py'  # linear classification on the frozen teacher, 20 labels
    linear.write_text(
        f"_base_ = {str(ROOT / 'configs/benchmarks/linear_resnet18_1xb256-coslr-100e_cifar10-10pct.py')!r}\n"
        f"model = dict(backbone=dict(stem_channels=16, base_channels=16, init_cfg=dict("
        f"checkpoint={str(ckpt)!r}, model='teacher')), head=dict(in_channels=128))\n"
        f"train_dataloader = dict(batch_size=10, num_workers=0, persistent_workers=False, dataset=dict("
        f"split_file={split!r}, dataset=dict(data_root={str(cifar_root)!r})))\n"
        f"val_dataloader = dict(batch_size=40, num_workers=0, dataset=dict(data_root={str(cifar_root)!r}))\n"
        "test_dataloader = val_dataloader\ntrain_cfg = dict(max_epochs=1, val_interval=1)\n")
    lin = train.run([str(linear), '--work-dir', str(tmp_path / 'linear')])
    assert lin.iter == 2 and len(lin.train_dataloader.dataset) == 20
    frozen = moco_runner.model.teacher.module.backbone.state_dict()
    assert all(torch.equal(v, frozen[k]) for k, v in lin.model.backbone.state_dict().items())
    fm = tmp_path / 'fm.py'
    fm.write_text(
        f"_base_ = {str(ROOT / 'configs/fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_bn-eman.py')!r}\n"
        f"model = dict(backbone=dict(stem_channels=16, base_channels=16, init_cfg=dict(type='Pretrained',"
        f" checkpoint={str(ckpt)!r}, prefix='teacher.module.backbone.')), head=dict(in_channels=128))\n"
        "train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict("
        f"mu=2, split_file={split!r}, dataset=dict(data_root={str(cifar_root)!r})))\n"
        f"val_dataloader = dict(batch_size=40, num_workers=0, dataset=dict(data_root={str(cifar_root)!r}))\n"
        "test_dataloader = val_dataloader\n"
        "train_cfg = dict(max_iters=0, val_interval=100)\n")
    # a run of 0 iterations (which tools/train.py refuses): only the weights' initialisation
    from mmengine.runner import Runner

    from emanplug.cli.runner import load_config, prepare_config
    runner = Runner.from_cfg(prepare_config(load_config(str(fm)), str(tmp_path / 'fm')))
    runner.train()
    teacher_backbone = moco_runner.model.teacher.module.backbone.state_dict()
    for name, value in runner.model.backbone.state_dict().items():
        assert torch.equal(value, teacher_backbone[name]), name  # loaded, not re-initialised
    for name, value in runner.model.teacher.module.backbone.state_dict().items():
        assert torch.equal(value, teacher_backbone[name]), name  # the teacher starts as a copy
    runner.save_checkpoint(str(tmp_path / 'fm'), 'init.pth')
    metrics = test_tool.run([str(fm), str(tmp_path / 'fm' / 'init.pth'), '--work-dir', str(tmp_path / 't'),
                             '--cfg-options', 'train_cfg.max_iters=1'])
    assert set(metrics) >= {'student/top1', 'student/top5', 'teacher/top1', 'teacher/top5'}
