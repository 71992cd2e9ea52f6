"""Run a table of experiments (configs x seeds), resumable, and summarise it.

    python tools/run_table.py CONFIG[:PROCS] [CONFIG[:PROCS] ...] --seeds 0 1 [--procs 2]
                              [--work-dir work_dirs/table] [--out docs/results/table]
                              [--records docs/results/runs/table] [--cfg-options key=value ...] [--dry-run]

The same as the console script ``emanplug-run-table``; the code is emanplug/cli/run_table.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('run_table')
