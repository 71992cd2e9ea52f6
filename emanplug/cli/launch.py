"""``emanplug-dist-train`` and ``emanplug-dist-test``: ``tools/dist_train.sh`` and
``tools/dist_test.sh`` of the installed package (``emanplug/.mim/tools``), so that distributed
runs start from any folder, with the Python that runs this command::

    emanplug-dist-train CONFIG NUM_PROCESSES [emanplug-train args]
    emanplug-dist-test CONFIG CHECKPOINT NUM_PROCESSES [emanplug-test args]

Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, as in the scripts."""
import os
import os.path as osp
import sys
from typing import NoReturn, Optional, Sequence

from . import TOOLS_DIR


def _exec(script: str, argv: Optional[Sequence[str]]) -> NoReturn:
    path = osp.join(TOOLS_DIR, script)
    args = list(sys.argv[1:] if argv is None else argv)
    if not osp.isfile(path):
        sys.exit(f'error: {path} is missing; reinstall emanplug (its wheel ships tools/)')
    env = dict(os.environ, EMANPLUG_PYTHON=os.environ.get('EMANPLUG_PYTHON', sys.executable))
    os.execvpe('bash', ['bash', path, *args], env)


def dist_train(argv: Optional[Sequence[str]] = None) -> NoReturn:
    """``bash tools/dist_train.sh CONFIG NUM_PROCESSES [args]`` of the installed package."""
    _exec('dist_train.sh', argv)


def dist_test(argv: Optional[Sequence[str]] = None) -> NoReturn:
    """``bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [args]`` of the installed package."""
    _exec('dist_test.sh', argv)
