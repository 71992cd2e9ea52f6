"""The quickstart: MoCo v2 with a BN and with an EMAN teacher on scikit-learn's digits,
evaluated with a kNN classifier next to the untrained network; prints a table, writes a plot.

    bash tools/quickstart.sh            # sets up the environment on first use, then runs this
    python tools/quickstart.py [--schemes bn-bn bn-eman] [--seed 0] [--work-dir DIR]

The same as the console script ``emanplug-quickstart``; the code is emanplug/cli/quickstart.py.
"""
from _entry import run  # tools/_entry.py: Python imports from the folder of the script it runs

if __name__ == '__main__':
    run('quickstart')
