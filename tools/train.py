"""Train a model from a config file with MMEngine's Runner (mmpretrain-style entry point).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options key=value ...] [--launcher none|pytorch|slurm]
                                 [--check-only]

The same as the console script ``emanplug-train``; the code is emanplug/cli/train.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('train')
