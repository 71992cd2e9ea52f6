"""Export the student's or the teacher's backbone of a MoCo / BYOL / FixMatch checkpoint as a
plain state dict.

    python tools/export_backbone.py CHECKPOINT [--model student|teacher]
                                    [--format mmpretrain|torchvision] [--out PATH]

``mmpretrain``: keys of mmpretrain's ``ResNet`` / ``ResNet_CIFAR`` (load with
``load_state_dict`` or ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``).
``torchvision``: keys of ``torchvision.models.resnet{18,34,50,...}`` without ``fc``
(``model.fc = nn.Identity(); model.load_state_dict(sd)``); only for backbones with
torchvision's 7x7 stem.  An EMAN teacher's norm layers have BN's keys and export as BN.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

PREFIXES = {'student': 'backbone.', 'teacher': 'teacher.module.0.'}


def backbone_state_dict(state_dict: dict, model: str = 'student') -> dict:
    """The backbone's entries of a model state dict, prefix removed."""
    from emanplug.errors import ConfigError
    prefix = PREFIXES[model]
    out = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not out:
        raise ConfigError(f'the checkpoint has no {model} backbone (no keys starting with '
                          f'{prefix!r}); allowed: checkpoints of emanplug MoCo, BYOL, FixMatch'
                          + (' with a teacher' if model == 'teacher' else ''))
    return out


def to_torchvision(backbone: dict) -> dict:
    """mmpretrain ResNet keys -> torchvision ResNet keys (the same names; the stem must match)."""
    from emanplug.errors import ConfigError
    stem = backbone.get('conv1.weight')
    if stem is None or tuple(stem.shape[1:]) != (3, 7, 7):
        raise ConfigError('torchvision format needs a ResNet with torchvision\'s 7x7 stem '
                          f'(conv1.weight {tuple(stem.shape) if stem is not None else None}); '
                          'allowed: --format mmpretrain for this backbone')
    if any(k.startswith('stem.') for k in backbone):
        raise ConfigError('torchvision format needs the plain ResNet stem (not ResNetV1c/d); '
                          'allowed: --format mmpretrain')
    return dict(backbone)


def main(argv=None) -> str:
    import torch
    import emanplug  # noqa: F401  (safe checkpoint loading)
    from emanplug.compat import load_checkpoint_file
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--model', choices=sorted(PREFIXES), default='student')
    parser.add_argument('--format', choices=['mmpretrain', 'torchvision'], default='mmpretrain')
    parser.add_argument('--out', help='default: CHECKPOINT with _{model}_{format}.pth')
    args = parser.parse_args(argv)
    checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    backbone = backbone_state_dict(state, args.model)
    if args.format == 'torchvision':
        backbone = to_torchvision(backbone)
    out = args.out or f'{osp.splitext(args.checkpoint)[0]}_{args.model}_{args.format}.pth'
    torch.save(backbone, out)
    print(f'{out}: {len(backbone)} tensors ({args.model} backbone, {args.format} keys)')
    return out


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
