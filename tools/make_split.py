"""Write a class-balanced labeled split of an ImageFolder dataset, deterministic for a seed.

    python tools/make_split.py data/cifar10 --num-labeled 4000 --seed 0
        -> data/cifar10/splits/train_4000_seed0.txt   (400 images per class)

The same as the console script ``emanplug-split``; the code is emanplug/cli/split.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('split')
