"""emanplug-eval (emanplug/cli/evaluate.py): a released checkpoint (generated here in the official
MoCo-EMAN / BYOL-EMAN layouts) evaluated by the Table 2 protocols with their learning-rate
grids on the fake ImageNet, resumable, into a Markdown table beside the paper's numbers."""
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


def test_source_family_and_protocol_configs(tmp_path, monkeypatch):
    moco, byol = tmp_path / 'moco.pth.tar', tmp_path / 'byol.pth.tar'
    torch.save(official_moco(resnet18(0), resnet18(1)), moco)
    torch.save(official_byol(resnet18(0), resnet18(1)), byol)
    assert evaluate.resolve_source(str(moco), None) == (str(moco), 'mocov2')
    assert evaluate.resolve_source(str(byol), None) == (str(byol), 'byol')
    for family in ('mocov2', 'byol'):
        for protocol in evaluate.PROTOCOLS:
            assert Path(evaluate.protocol_config(family, protocol)).is_file()
    with pytest.raises(ConfigError, match=r"CONFIG_OR_CKPT '.*nothing.pth' does not exist"):
        evaluate.resolve_source(str(tmp_path / 'nothing.pth'), None)
    monkeypatch.chdir(tmp_path)  # no work_dirs/ here
    config = str(ROOT / 'configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman.py')
    with pytest.raises(ConfigError, match=r'its checkpoint work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/'
                                          r'epoch_200.pth does not exist; allowed: train it first'):
        evaluate.resolve_source(config, None)
    runs = evaluate.run([str(byol), '--protocols', 'finetune-1pct', '--dry-run', '--work-dir', str(tmp_path / 'w')])
    assert runs == {'finetune-1pct': []}


@pytest.mark.smoke
def test_linear_grid_runs_resume_and_table(tmp_path):
    data = tmp_path / 'imagenet'
    subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_fake_imagenet.py'), str(data), '--classes', '4',
                    '--train-per-class', '8', '--val-per-class', '4', '--size', '80'], check=True, cwd=ROOT,
                   capture_output=True)
    checkpoint = tmp_path / 'model_best.pth.tar'
    torch.save(official_moco(resnet18(0), resnet18(1)), checkpoint)
    work = tmp_path / 'eval'
    argv = [str(checkpoint), '--protocols', 'linear-1pct', '--work-dir', str(work), '--cfg-options',
            f'train_dataloader.dataset.split_file={data}/splits/1percent.txt', *small(data)]
    results = evaluate.run(argv)['linear-1pct']
    assert [r['value'] for r in results] == [15.0, 30.0, 60.0]  # the paper's MoCo grid
    assert all(0 <= r['top1'] <= 100 and r['epoch'] == 1 for r in results)
    assert all((work / 'linear-1pct' / f'lr-{v}' / 'result.json').is_file() for v in (15, 30, 60))
    table = (work / 'table.md').read_text()
    best = max(results, key=lambda r: r['top1'])
    assert f"| linear-1pct | 15: {results[0]['top1']:.2f}, 30: " in table
    assert f"| {best['value']:g} | {best['top1']:.2f} |" in table and '| 48.9 | 75.3 |' in table  # Table 2
    again = evaluate.run(argv)['linear-1pct']  # finished runs are read, not trained again
    assert again == results and (work / 'table.md').read_text() == table
