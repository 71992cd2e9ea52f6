"""Write a class-balanced labeled split of an ImageFolder dataset, deterministic for a seed.

    emanplug-split data/cifar10 --num-labeled 4000 --seed 0
        -> data/cifar10/splits/train_4000_seed0.txt   (400 images per class)
    emanplug-split data/imagenet --num-labeled 10% --seed 0
        -> data/imagenet/splits/train_10pct_seed0.txt
    (in a checkout: python tools/make_split.py ...)

The file lists one image per line, relative to DATA_ROOT/SUBSET (``<class>/<file>``), the
format SemiSupervisedDataset reads (it also reads the paper's published 1% / 10% lists).
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from . import check_output, command


def seed_value(text: str) -> int:
    """``--seed``: an integer >= 0 (numpy's generators take no negative seed)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f'{text!r} is not allowed; allowed: an integer >= 0')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='emanplug-split', description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--num-labeled', required=True,
                        help='total labeled images (4000) or a share of each class (10%%, 0.01)')
    parser.add_argument('--seed', type=seed_value, default=0, help='an integer >= 0')
    parser.add_argument('--subset', default='train')
    parser.add_argument('--out', help='default: DATA_ROOT/splits/SUBSET_N_seedS.txt')
    return parser.parse_args(argv)


def run(argv: Optional[Sequence[str]] = None) -> str:
    """Write the split the command line ``argv`` asks for; returns the file's path.  (Builds
    no config, so it registers nothing in MMEngine.)"""
    from ..datasets.splits import balanced_split, image_folder, parse_amount, write_split
    args = parse_args(argv)
    amount, tag = parse_amount(args.num_labeled)
    paths, labels, classes = image_folder(osp.join(args.data_root, args.subset))
    out = args.out or osp.join(args.data_root, 'splits', f'{args.subset}_{tag}_seed{args.seed}.txt')
    check_output(out, '--out')
    chosen = balanced_split(labels, amount, args.seed)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    write_split(out, [paths[i] for i in chosen])
    print(f'{out}: {len(chosen)} labeled images of {len(paths)} ({len(classes)} classes)')
    return out


main = command(run)  # ``emanplug-split``: run() with one-line errors


if __name__ == '__main__':
    main()
