"""Small ImageFolder datasets for tests: a subset of the real CIFAR-10 of ../shared when it
is there, generated images otherwise."""
import re
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR_ARCHIVE = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'cifar10-jpeg.tar.gz'
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')


def make_cifar_subset(root: Path, train_per_class: int = 8, test_per_class: int = 4) -> Path:
    """``root/{train,test}/<class>/NNNN.jpg`` with a few images per class; returns ``root``."""
    wanted = {'train': train_per_class, 'test': test_per_class}
    if CIFAR_ARCHIVE.exists():
        pattern = re.compile(r'(?:\./)?(train|test)/(\w+)/(\d+)\.jpg$')
        with tarfile.open(CIFAR_ARCHIVE, 'r:gz') as tar:
            for member in tar:
                match = pattern.match(member.name)
                if match and int(match.group(3)) < wanted[match.group(1)]:
                    out = root / match.group(1) / match.group(2) / f'{match.group(3)}.jpg'
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(tar.extractfile(member).read())
        return root
    rng = np.random.default_rng(0)
    for split, n in wanted.items():
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = rng.integers(0, 64, (32, 32, 3)) + np.array([25 * c, 255 - 25 * c, 128])
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f'{i:04d}.jpg')
    return root
