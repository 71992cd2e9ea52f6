"""emanplug-eval (emanplug/cli/evaluate.py): a released checkpoint (generated here in the official
MoCo-EMAN / BYOL-EMAN layouts) evaluated by the paper's protocols on the fake ImageNet: Table 2's
with their learning-rate grids and label sets, the frozen ones (kNN, retrieval, low-shot) through
emanplug-test; resumable, into a Markdown table beside the paper's numbers."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from test_pretrained_layouts import official_byol, official_moco

from emanplug.cli import evaluate
from emanplug.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def resnet18(seed):
    torch.manual_seed(seed)
    return {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}


def small(data):
    """--cfg-options that make an evaluation config a CPU run on the fake ImageNet: a ResNet-18
    (the checkpoints below are ResNet-18s), 1 epoch, 2 images per batch, no workers."""
    loaders = [f'{k}.{v}' for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')
               for v in ('batch_size=2', 'num_workers=0', 'persistent_workers=False')]
    return ['model.backbone.depth=18', 'model.head.in_channels=512', 'train_cfg.max_epochs=1',
            f'train_dataloader.dataset.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}', *loaders]


def frozen(data):
    """The same for the frozen protocols' config (its KNNEvalHook reads the data)."""
    return ['model.backbone.depth=18', f'custom_hooks.0.bank.data_root={data}',
            f'custom_hooks.0.query.data_root={data}', 'custom_hooks.0.num_workers=0', 'custom_hooks.0.batch_size=8']


def test_source_family_dataset_and_protocol_configs(tmp_path, monkeypatch):
    moco, byol = tmp_path / 'moco.pth.tar', tmp_path / 'byol.pth.tar'
    torch.save(official_moco(resnet18(0), resnet18(1)), moco)
    torch.save(official_byol(resnet18(0), resnet18(1)), byol)
    assert evaluate.resolve_source(str(moco), None) == (str(moco), 'mocov2', 'in1k')
    assert evaluate.resolve_source(str(byol), None) == (str(byol), 'byol', 'in1k')
    # an emanplug checkpoint says what it was trained on
    ours = tmp_path / 'epoch_16.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in resnet18(0).items()},
                'meta': {'cfg': "model = dict(type='EMAMoCo')\ndata_root = 'data/cifar10/'"}}, ours)
    assert evaluate.resolve_source(str(ours), None) == (str(ours), 'mocov2', 'cifar10')
    for family in ('mocov2', 'byol'):
        for protocol in evaluate.PROTOCOLS:
            if protocol != 'lowshot-voc07':
                assert Path(evaluate.protocol_config(family, protocol)).is_file()
        for protocol in ('linear-1pct', 'linear-10pct', 'linear-100pct', 'knn', 'retrieval', 'lowshot'):
            assert Path(evaluate.protocol_config(family, protocol, 'cifar10')).is_file()
    with pytest.raises(ConfigError, match=r'--protocols finetune-1pct: no config .*resnet18_mocov2-pre_1xb256-'
                                          r'finetune-steplr-50e_cifar10-1pct.py; allowed for mocov2 pretrained on '
                                          r'cifar10: linear-1pct, linear-10pct, linear-100pct, knn, retrieval, lowshot$'):
        evaluate.protocol_config('mocov2', 'finetune-1pct', 'cifar10')
    with pytest.raises(ConfigError, match=r"CONFIG_OR_CKPT '.*nothing.pth' does not exist"):
        evaluate.resolve_source(str(tmp_path / 'nothing.pth'), None)
    monkeypatch.chdir(tmp_path)  # no work_dirs/ here
    config = str(ROOT / 'configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman.py')
    with pytest.raises(ConfigError, match=r'its checkpoint work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/'
                                          r'epoch_200.pth does not exist; allowed: train it first'):
        evaluate.resolve_source(config, None)
    digits = str(ROOT / 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py')
    (tmp_path / 'work_dirs' / Path(digits).stem).mkdir(parents=True)
    (tmp_path / 'work_dirs' / Path(digits).stem / 'epoch_20.pth').write_bytes(b'')
    with pytest.raises(ConfigError, match=r'no evaluation configs for its dataset; allowed: a model pretrained on '
                                          r'in1k or cifar10, or --dataset in1k\|cifar10$'):
        evaluate.resolve_source(digits, None)
    runs = evaluate.run([str(byol), '--protocols', 'finetune-1pct', 'knn', '--dry-run', '--work-dir',
                         str(tmp_path / 'w'), '--label-sets', '2'])
    assert runs == {'finetune-1pct': [], 'knn': []}


def test_the_table_reads_every_finished_run_and_averages_the_label_sets(tmp_path):
    """Three label sets x the grid {15, 30, 60}: the best value is the best mean, reported as
    mean +- sd over the sets, beside Table 2; frozen results beside Tables 4 and 5."""
    top1 = {15: (40.0, 42.0, 44.0), 30: (45.0, 49.0, 47.0), 60: (50.0, 30.0, 40.0)}
    for value, per_set in top1.items():
        for s, acc in enumerate(per_set):
            d = tmp_path / 'linear-1pct' / f'set{s}' / f'lr-{value}'
            d.mkdir(parents=True)
            (d / 'result.json').write_text(json.dumps(dict(
                value=float(value), top1=acc, top5=acc + 20, label_set=s, checkpoint='x.pth', model='student',
                config='configs/mocov2/benchmarks/resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k-1pct.py')))
    metrics = dict(top1=58.25, mAP=39.5, recall=24.0, **{f'{k}shot': 10.0 + k for k in (1, 2, 4, 8, 16)},
                   **{f'{k}shot_std': 0.5 for k in (1, 2, 4, 8, 16)})
    for protocol, keys in (('knn', ['top1']), ('retrieval', ['mAP', 'recall']),
                           ('lowshot', [k for k in metrics if 'shot' in k])):
        (tmp_path / protocol).mkdir()
        (tmp_path / protocol / 'result.json').write_text(json.dumps(dict(metrics={k: metrics[k] for k in keys})))
    found = evaluate.finished(str(tmp_path))
    assert list(found) == ['linear-1pct', 'knn', 'retrieval', 'lowshot'] and len(found['linear-1pct']) == 9
    evaluate.write_table(str(tmp_path / 'table.md'), 'mocov2', 'in1k', 'x.pth', 'student', found)
    table = (tmp_path / 'table.md').read_text()
    # means 42, 47, 40: 30 wins with 47.00 +- 2.00 (sample sd of 45, 49, 47), top-5 67
    assert '| linear-1pct | 3 | 15: 42.00, 30: 47.00, 60: 40.00 | 30 | 47.00 +- 2.00 | 67.00 | 48.9 | 75.3 |' in table
    assert '| knn | kNN top-1 | 58.25 | 58.0 |' in table  # Table 4, MoCo-EMAN 200 epochs
    assert '| retrieval | mAP / recall | 39.50 / 24.00 | 39.8 / 24.3 |' in table
    assert ('| lowshot | top-1 at k = 1, 2, 4, 8, 16 | 11.00 +- 0.50, 12.00 +- 0.50, 14.00 +- 0.50, 18.00 +- 0.50, '
            '26.00 +- 0.50 | 29.3, 36.0, 41.6, 46.9, 50.8 |') in table  # Table 5, ImageNet
    # --table rewrites it from the records alone (no checkpoint needed)
    (tmp_path / 'table.md').unlink()
    assert evaluate.run(['--table', str(tmp_path)]) == found and (tmp_path / 'table.md').read_text() == table
    with pytest.raises(ConfigError, match=r'--table .*: no finished run \(\*/result.json\) there; allowed: a work '
                                          r'dir of emanplug-eval$'):
        evaluate.run(['--table', str(tmp_path / 'linear-1pct' / 'set0' / 'lr-15' / 'nothing')])


@pytest.fixture(scope='module')
def fake_imagenet(tmp_path_factory):
    data = tmp_path_factory.mktemp('fake') / 'imagenet'
    subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_fake_imagenet.py'), str(data), '--classes', '4',
                    '--train-per-class', '16', '--val-per-class', '4', '--size', '64'], check=True, cwd=ROOT,
                   capture_output=True)
    return data


@pytest.mark.smoke
def test_linear_grid_and_label_sets_run_resume_and_table(tmp_path, fake_imagenet):
    data = fake_imagenet
    checkpoint = tmp_path / 'model_best.pth.tar'
    torch.save(official_moco(resnet18(0), resnet18(1)), checkpoint)
    work = tmp_path / 'eval'
    argv = [str(checkpoint), '--protocols', 'linear-1pct', '--label-sets', '2', '--work-dir', str(work),
            '--cfg-options', *small(data)]
    results = evaluate.run(argv)['linear-1pct']
    assert [(r['label_set'], r['value']) for r in results] == [(s, v) for s in (0, 1) for v in (15.0, 30.0, 60.0)]
    assert all(0 <= r['top1'] <= 100 and r['epoch'] == 1 and r['provenance']['torch'] for r in results)
    # set 0 and set 1: 1 % of each class of the fake ImageNet's train (one image of 16), seeds 0 and 1
    lists = [Path(r['split_file']).read_text().split() for r in results[::3]]
    assert [len(x) for x in lists] == [4, 4] and lists[0] != lists[1]
    table = (work / 'table.md').read_text()
    assert '| linear-1pct | 2 | 15: ' in table and '| 48.9 | 75.3 |' in table  # Table 2
    again = evaluate.run(argv)['linear-1pct']  # finished runs are read, not trained again
    assert again == results and (work / 'table.md').read_text() == table


@pytest.mark.smoke
def test_frozen_protocols_of_a_released_checkpoint(tmp_path, fake_imagenet, capfd):
    checkpoint = tmp_path / 'byol.pth.tar'
    torch.save(official_byol(resnet18(0), resnet18(1)), checkpoint)
    work = tmp_path / 'eval'
    argv = [str(checkpoint), '--protocols', 'knn', 'retrieval', 'lowshot', '--work-dir', str(work),
            '--cfg-options', *frozen(fake_imagenet)]
    results = evaluate.run(argv)
    knn, retrieval, lowshot = (results[p][0]['metrics'] for p in ('knn', 'retrieval', 'lowshot'))
    assert 0 <= knn['top1'] <= 100 and 0 <= retrieval['mAP'] <= 100 and 0 <= retrieval['recall'] <= 100
    assert sorted(lowshot) == sorted(f'{k}shot{s}' for k in (1, 2, 4, 8, 16) for s in ('', '_std'))
    # the memory of the sharded, float16 bank is printed before the extraction, by emanplug-eval and the run
    assert 'memory estimate: feature bank: 64 of 64 bank + 16 query images x 512 x 2 B' in capfd.readouterr().out
    out = (work / 'knn' / 'run.out').read_text()
    assert 'feature bank: 64 of 64 bank + 16 query images x 512 x 2 B' in out
    table = (work / 'table.md').read_text()
    assert '| knn | kNN top-1 |' in table and '| 64.9 |' in table  # Table 4, BYOL-EMAN
    assert evaluate.run(argv) == results  # finished: read back
    # two processes (gloo), each holding half of the bank: the same numbers
    two = evaluate.run([str(checkpoint), '--protocols', 'knn', 'retrieval', '--procs', '2', '--work-dir',
                        str(tmp_path / 'two'), '--cfg-options', *frozen(fake_imagenet)])
    assert 'feature bank: 32 of 64 bank' in (tmp_path / 'two' / 'knn' / 'run.out').read_text()
    assert two['knn'][0]['metrics'] == results['knn'][0]['metrics']
    assert two['retrieval'][0]['metrics'] == pytest.approx(results['retrieval'][0]['metrics'], abs=1e-4)


def test_the_committed_cifar10_table_is_what_its_records_give(tmp_path):
    """docs/results/runs/eval_cifar10_*/table.md: emanplug-eval's table of a CIFAR-10 pretraining
    record of this repository, rewritten from its committed run records by --table."""
    import shutil
    committed = sorted((ROOT / 'docs' / 'results' / 'runs').glob('eval_cifar10_*/table.md'))
    assert committed, 'no committed emanplug-eval table of a CIFAR-10 run'
    for table in committed:
        copy = tmp_path / table.parent.name
        shutil.copytree(table.parent, copy)
        (copy / 'table.md').unlink()
        evaluate.run(['--table', str(copy)])
        assert (copy / 'table.md').read_text() == table.read_text(), table
