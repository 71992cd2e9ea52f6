"""MoCo v2 with an EMAN teacher in a plain PyTorch loop (lightly + emanplug, no mmengine).

Shows how to use ``emanplug.core`` on its own: the student (query encoder) is a
ResNet-18 backbone plus lightly's ``MoCoProjectionHead``, given the scheme's
normalisation by ``prepare_student(student, scheme)`` before its optimizer is built;
the key encoder is ``EMATeacher(student, scheme)``; lightly's ``NTXentLoss`` with a
memory bank plays the role of MoCo's queue.  Each step:

1. queries through the student, keys through the teacher (no grad, scheme's forward)
2. loss, SGD step (linear learning-rate warm-up, then cosine)
3. ``teacher.update(step, total)``  (eq. 1, eq. 9 for EMAN, the momentum schedule and
   MomentumBN's progress)

Without warm-up MoCo tends to collapse: the loss sits at log(K + 1), K the queue
size; the script prints a loud warning when it sees that.

Run it with emanplug installed (``source .venv/bin/activate`` after the README's set-up;
default data: scikit-learn's 8x8 digits, upsampled to 32x32 RGB)::

    python examples/lightly_moco_eman.py --epochs 5
    python examples/lightly_moco_eman.py --scheme bn-shufflebn --data /path/to/imagefolder
"""
import argparse
import math
import random
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from lightly.loss import NTXentLoss
from lightly.models.modules import MoCoProjectionHead
from lightly.transforms import MoCoV2Transform
from PIL import Image

from emanplug.core import EMATeacher, prepare_student, build_scheme


class DigitsDataset(torch.utils.data.Dataset):
    """scikit-learn's digits (1797 images, 8x8, 17 grey levels) as 32x32 RGB PIL images."""

    def __init__(self, transform=None, size: int = 32):
        from sklearn.datasets import load_digits
        digits = load_digits()
        pixels = (digits.images * (255.0 / 16.0)).astype(np.uint8)
        self.images = [Image.fromarray(p).resize((size, size), Image.BILINEAR).convert('RGB')
                       for p in pixels]
        self.targets = digits.target.tolist()
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), self.targets[i]


def make_scheme(name: str):
    """``--scheme`` to a scheme spec; ShuffleBN on one process needs two sub-batches."""
    scheme = build_scheme(name)
    if scheme.name == 'shufflebn' and scheme.num_splits == 1:
        scheme = build_scheme(dict(type=name, num_splits=2))
    return scheme


def resnet18_backbone() -> nn.Module:
    """torchvision ResNet-18 without fc, with a CIFAR stem (3x3 conv, no max-pool) for 32x32 input."""
    net = torchvision.models.resnet18()
    net.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    net.fc = nn.Identity()  # output: (N, 512)
    return net


def lr_at(step: int, base_lr: float, warmup_steps: int, total: int) -> float:
    """Linear warm-up from base_lr / warmup_steps to base_lr, then cosine decay to 0."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(total - warmup_steps, 1)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def looks_collapsed(losses, queue: int, window: int = 20, tol: float = 0.01) -> bool:
    """True if the last ``window`` losses all sit at log(K + 1), the loss of constant outputs."""
    if len(losses) < window:
        return False
    chance = math.log(queue + 1)
    return all(abs(loss - chance) < tol * chance for loss in losses[-window:])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=None, help='ImageFolder directory (default: sklearn digits)')
    p.add_argument('--scheme', default='bn-eman', help="e.g. bn-eman, bn-bn, bn-shufflebn, bn-momentumbn")
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--steps', type=int, default=None, help='stop after this many steps')
    p.add_argument('--momentum', type=float, default=0.99, help='teacher momentum m (paper convention)')
    p.add_argument('--queue', type=int, default=1024, help='memory bank size K')
    p.add_argument('--lr', type=float, default=0.06)
    p.add_argument('--warmup-epochs', type=float, default=2.0)
    p.add_argument('--input-size', type=int, default=32)
    p.add_argument('--workers', type=int, default=0)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='auto', help="'auto' (cuda if available), 'cpu', 'cuda', ...")
    p.add_argument('--log-every', type=int, default=10)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device('cuda' if args.device == 'auto' and torch.cuda.is_available()
                          else 'cpu' if args.device == 'auto' else args.device)

    # Two augmented views per image (MoCo v2 augmentations; no blur on tiny images).
    transform = MoCoV2Transform(input_size=args.input_size, gaussian_blur=0.0)
    dataset = (torchvision.datasets.ImageFolder(args.data, transform=transform) if args.data
               else DigitsDataset(transform, size=args.input_size))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
        num_workers=args.workers, generator=torch.Generator().manual_seed(args.seed))
    if len(loader) == 0:
        sys.exit(f'--batch-size={args.batch_size} is larger than the dataset ({len(dataset)} images)')

    # Student = query encoder; the teacher (key encoder) is its EMA under the scheme.
    student = nn.Sequential(resnet18_backbone(), MoCoProjectionHead(512, 512, 128)).to(device)
    scheme = make_scheme(args.scheme)
    scheme.check_batch_size(args.batch_size, 'batch_size')
    student = prepare_student(student, scheme)  # before the optimizer: GN/IN/SyncBN add layers
    teacher = EMATeacher(student, scheme=scheme, momentum=args.momentum)

    criterion = NTXentLoss(temperature=0.2, memory_bank_size=(args.queue, 128)).to(device)
    optimizer = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    total = args.epochs * len(loader)
    if args.steps is not None:
        total = min(total, args.steps)
    warmup_steps = max(1, round(args.warmup_epochs * len(loader)))

    print(f'MoCo v2 + {teacher.scheme.token} teacher, m={args.momentum}, K={args.queue}, '
          f'{len(dataset)} images, {total} steps on {device}')
    losses, step, warned = [], 0, False
    student.train()
    teacher.train()
    while step < total:
        for (query_view, key_view), _ in loader:
            if step >= total:
                break
            query_view, key_view = query_view.to(device), key_view.to(device)
            for group in optimizer.param_groups:
                group['lr'] = lr_at(step, args.lr, warmup_steps, total)

            queries = student(query_view)
            keys = teacher(key_view)  # no grad; ShuffleBN shuffles, EMAN uses its running stats
            loss = criterion(queries, keys)  # keys are pushed into the memory bank (the queue)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            teacher.update(step, total)

            losses.append(loss.item())
            step += 1
            if not math.isfinite(losses[-1]):
                sys.exit(f'loss is {losses[-1]} at step {step}')
            if step % args.log_every == 0 or step == total:
                print(f'step {step}/{total}  loss {losses[-1]:.4f}  '
                      f'lr {optimizer.param_groups[0]["lr"]:.4f}  (log(K+1) = {math.log(args.queue + 1):.4f})')
            if not warned and step > warmup_steps and looks_collapsed(losses, args.queue):
                warned = True
                print('!' * 78 + f'\n!!! WARNING: the loss sits at log(K+1) = {math.log(args.queue + 1):.4f}: '
                      'MoCo has collapsed\n!!! (constant outputs). Try more --warmup-epochs or a '
                      'lower --lr.\n' + '!' * 78, file=sys.stderr, flush=True)
    return {'losses': losses, 'teacher': teacher, 'student': student,
            'criterion': criterion, 'collapsed': warned, 'args': args}


if __name__ == '__main__':
    main()
