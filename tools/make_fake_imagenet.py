"""Write a tiny fake ImageNet (train/, val/, meta/*.txt, splits/*percent.txt) for smoke tests.

    python tools/make_fake_imagenet.py data/fake_imagenet --classes 4 --train-per-class 4

The same as the console script ``emanplug-fake-imagenet``; the code is emanplug/cli/fake_imagenet.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('fake_imagenet')
