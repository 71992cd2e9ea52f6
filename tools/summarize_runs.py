"""Summarise finished runs: a Markdown table shaped like the paper's Table 1 and PNG curves.

    python tools/summarize_runs.py [WORK_DIR ...] [--records DIR] [--out docs/results/table]

The same as the console script ``emanplug-summarize``; the code is emanplug/cli/summarize.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('summarize')
