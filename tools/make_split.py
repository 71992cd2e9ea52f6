"""Write a class-balanced labeled split of an ImageFolder dataset, deterministic for a seed.

    python tools/make_split.py data/cifar10 --num-labeled 4000 --seed 0
        -> data/cifar10/splits/train_4000_seed0.txt   (400 images per class)
    python tools/make_split.py data/imagenet --num-labeled 10% --seed 0
        -> data/imagenet/splits/train_10pct_seed0.txt

The file lists one image per line, relative to DATA_ROOT/SUBSET (``<class>/<file>``), the
format SemiSupervisedDataset reads (it also reads the paper's published 1% / 10% lists).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')


def image_folder(root: str):
    """``(relative_paths, labels, classes)`` of an ImageFolder directory, sorted."""
    from emanplug.errors import ConfigError
    if not osp.isdir(root):
        raise ConfigError(f'image folder {root!r} does not exist; allowed: DATA_ROOT/SUBSET with one '
                          'folder per class')
    classes = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
    paths, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted(os.listdir(osp.join(root, name))):
            if file.lower().endswith(IMAGE_EXTENSIONS):
                paths.append(f'{name}/{file}')
                labels.append(label)
    if not paths:
        raise ConfigError(f'image folder {root!r} holds no images in class folders')
    return paths, labels, classes


def parse_amount(text: str):
    text = text.strip()
    if text.endswith('%'):
        return float(text[:-1]) / 100, f'{text[:-1]}pct'
    value = float(text)
    return (int(value), str(int(value))) if value >= 1 else (value, f'{value * 100:g}pct')


def main(argv=None) -> str:
    from emanplug.datasets.splits import balanced_split, write_split
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--num-labeled', required=True,
                        help='total labeled images (4000) or a share of each class (10%%, 0.01)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--subset', default='train')
    parser.add_argument('--out', help='default: DATA_ROOT/splits/SUBSET_N_seedS.txt')
    args = parser.parse_args(argv)
    amount, tag = parse_amount(args.num_labeled)
    paths, labels, classes = image_folder(osp.join(args.data_root, args.subset))
    chosen = balanced_split(labels, amount, args.seed)
    out = args.out or osp.join(args.data_root, 'splits', f'{args.subset}_{tag}_seed{args.seed}.txt')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    write_split(out, [paths[i] for i in chosen])
    print(f'{out}: {len(chosen)} labeled images of {len(paths)} ({len(classes)} classes)')
    return out


if __name__ == '__main__':
    from emanplug.apis import run_cli
    run_cli(main)
