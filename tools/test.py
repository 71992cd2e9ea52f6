"""Evaluate a checkpoint (mmpretrain-style entry point).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...] [--launcher ...]
                                           [--protocol knn|lowshot|retrieval]

The same as the console script ``emanplug-test``; the code is emanplug/cli/test.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('test')
