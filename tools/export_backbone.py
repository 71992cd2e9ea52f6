"""Export the student's or the teacher's backbone of a MoCo / BYOL / FixMatch checkpoint as a
plain state dict.

    python tools/export_backbone.py CHECKPOINT [--model student|teacher]
                                    [--format mmpretrain|torchvision] [--out PATH]

The same as the console script ``emanplug-export``; the code is emanplug/cli/export.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('export')
