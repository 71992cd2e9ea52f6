"""Export the student's or the teacher's backbone of a MoCo / BYOL / FixMatch checkpoint as a
plain state dict.

    emanplug-export CHECKPOINT [--model student|teacher] [--format mmpretrain|torchvision]
                    [--out PATH]
    (in a checkout: python tools/export_backbone.py ...)

``mmpretrain``: keys of mmpretrain's ``ResNet`` / ``ResNet_CIFAR`` (load with
``load_state_dict`` or ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``).
``torchvision``: keys of ``torchvision.models.resnet{18,34,50,...}`` without ``fc``
(``model.fc = nn.Identity(); model.load_state_dict(sd)``); only for backbones with
torchvision's 7x7 stem.  An EMAN teacher's norm layers have BN's keys and export as BN.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from ..checkpoint import MODELS, part_state_dict
from ..errors import ConfigError
from . import check_output, command

FORMATS = ('mmpretrain', 'torchvision')


def to_torchvision(backbone: dict) -> dict:
    """An mmpretrain ``ResNet`` state dict as torchvision's ``ResNet`` keys (the names are
    the same; this checks that the stem is torchvision's 7x7 one, not the CIFAR 3x3 or the
    ResNetV1c/d stem).

    Example:
        >>> sd = part_state_dict(checkpoint['state_dict'], 'teacher')  # doctest: +SKIP
        >>> torchvision.models.resnet50().load_state_dict(to_torchvision(sd), strict=False)  # doctest: +SKIP
    """
    stem = backbone.get('conv1.weight')
    if stem is None or tuple(stem.shape[1:]) != (3, 7, 7):
        raise ConfigError('torchvision format needs a ResNet with torchvision\'s 7x7 stem '
                          f'(conv1.weight {tuple(stem.shape) if stem is not None else None}); '
                          'allowed: --format mmpretrain for this backbone')
    if any(k.startswith('stem.') for k in backbone):
        raise ConfigError('torchvision format needs the plain ResNet stem (not ResNetV1c/d); '
                          'allowed: --format mmpretrain')
    return dict(backbone)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-export', description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--model', choices=MODELS, default='student')
    parser.add_argument('--format', choices=FORMATS, default='mmpretrain')
    parser.add_argument('--out', help='default: CHECKPOINT with _{model}_{format}.pth')
    return parser.parse_args(argv)


def run(argv: Optional[Sequence[str]] = None) -> str:
    """Export as the command line ``argv`` says; returns the written file's path.  (Builds
    no config, so it registers nothing in MMEngine; the checkpoint is read with
    ``weights_only=True`` and mmengine's allow-list.)"""
    args = parse_args(argv)
    import torch

    from ..compat import load_checkpoint_file
    out = args.out or f'{osp.splitext(args.checkpoint)[0]}_{args.model}_{args.format}.pth'
    check_output(out, '--out')
    checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    try:
        if not isinstance(state, dict):
            raise ConfigError(f'it holds a {type(checkpoint).__name__}, not a state dict; allowed: '
                              'a checkpoint written by tools/train.py')
        backbone = part_state_dict(state, args.model, 'backbone')
        if args.format == 'torchvision':
            backbone = to_torchvision(backbone)
    except ConfigError as err:
        raise ConfigError(f'checkpoint {args.checkpoint}: {err}') from None
    torch.save(backbone, out)
    print(f'{out}: {len(backbone)} tensors ({args.model} backbone, {args.format} keys)')
    return out


main = command(run)  # ``emanplug-export``: run() with one-line errors


if __name__ == '__main__':
    main()
