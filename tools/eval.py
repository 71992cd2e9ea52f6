"""Evaluate a pretrained checkpoint by the EMAN paper's Table 2 protocols (linear classification,
fine-tuning) with their learning-rate grids, resumable, into one Markdown table.

    python tools/eval.py CONFIG_OR_CKPT [--protocols linear-10pct finetune-1pct ...] [--family mocov2|byol]
                         [--model student|teacher] [--work-dir DIR] [--procs N] [--no-grid] [--cfg-options ...]

The same as the console script ``emanplug-eval``; the code is emanplug/cli/evaluate.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('evaluate')
