"""tools/export_backbone.py: an EMAN teacher's backbone loads into torchvision's ResNet."""
import pytest
import torch
import torch.nn as nn
import torchvision

import emanplug  # noqa: F401
from emanplug.cli import export
from emanplug.errors import ConfigError
from emanplug.evaluation import pooled_features


def moco(depth, cifar=False):
    from mmpretrain.registry import MODELS
    channels = 512 if depth < 50 else 2048
    return MODELS.build(dict(
        type='EMAMoCo', _scope_='mmpretrain', scheme='bn-eman', queue_len=16, feat_dim=8,
        backbone=dict(type='ResNet_CIFAR' if cifar else 'ResNet', depth=depth),
        neck=dict(type='MoCoV2Neck', in_channels=channels, hid_channels=16, out_channels=8),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)))


@pytest.mark.parametrize('depth, which', [(18, 'teacher'), (18, 'student'), (50, 'teacher')])
def test_backbone_loads_into_torchvision_with_the_same_features(depth, which, tmp_path):
    model = moco(depth)
    with torch.no_grad():  # make the teacher differ from the student
        for p in model.teacher.module.parameters():
            p.add_(0.01 * torch.randn_like(p))
        for m in model.teacher.modules():
            if hasattr(m, 'running_var'):
                m.running_var.uniform_(0.5, 2.0)
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    out = export.run([str(ckpt), '--model', which, '--format', 'torchvision'])
    net = getattr(torchvision.models, f'resnet{depth}')()
    net.fc = nn.Identity()
    result = net.load_state_dict(torch.load(out, weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    source = model.teacher.module.backbone if which == 'teacher' else model.backbone
    x = torch.randn(2, 3, 64, 64)
    source.eval()  # (mmpretrain's ResNet.train() returns None, so no chaining)
    net.eval()
    with torch.no_grad():
        expected = pooled_features(source, x)
        got = nn.functional.normalize(net(x), dim=1)
    assert torch.allclose(got, expected, atol=1e-5)


def test_cifar_stem_exports_for_mmpretrain_only(tmp_path):
    model = moco(18, cifar=True)
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    with pytest.raises(ConfigError, match="7x7 stem.*allowed: --format mmpretrain"):
        export.run([str(ckpt), '--format', 'torchvision'])
    out = export.run([str(ckpt), '--model', 'teacher'])
    from mmpretrain.models import ResNet_CIFAR
    result = ResNet_CIFAR(depth=18).load_state_dict(torch.load(out, weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
