"""The mmpretrain recipes (configs/mmpretrain_recipe/) load the way mmpretrain's own tools load
them: ``Config.fromfile`` in a fresh interpreter, where the ``_base_ = 'mmpretrain::...'`` file
is found (with ``pkg_resources``, see setup.cfg) before ``custom_imports`` imports emanplug."""
import sys
from pathlib import Path

import pytest

from speedups import run_side_by_side

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / 'configs' / 'mmpretrain_recipe').glob('*.py'))

# An audit hook records, in order, the first import of emanplug and every file read from
# mmpretrain's packaged configs; then the config is loaded as mmpretrain's tools do.
LOAD = '''
import sys
events = []

def audit(event, args):
    if event == 'import' and args[0].split('.')[0] == 'emanplug':
        events.append('emanplug')
    elif event == 'open' and isinstance(args[0], str) and '.mim' in args[0] and 'configs' in args[0]:
        events.append('mmpretrain config')

sys.addaudithook(audit)
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
print(' '.join(dict.fromkeys(events)), '|', cfg.model.type)
'''


def test_there_are_recipes():
    assert RECIPES


@pytest.fixture(scope='module')
def loaded():
    """Every recipe in its own fresh interpreter, all started at once (each load is imports on
    one core: side by side on 2 cores they take about half the time)."""
    results = run_side_by_side([[sys.executable, '-c', LOAD, str(path.relative_to(ROOT))] for path in RECIPES],
                               cwd=ROOT)
    return dict(zip(RECIPES, results))


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_recipe_loads_before_emanplug_is_imported(path, loaded):
    returncode, stdout, stderr = loaded[path]
    assert returncode == 0, stderr[-3000:]
    order, model = stdout.strip().splitlines()[-1].split(' | ')
    # the mmpretrain base was read first; custom_imports imported emanplug afterwards
    assert order == 'mmpretrain config emanplug', (order, stderr[-3000:])
    assert model in ('EMAMoCo', 'EMABYOL', 'MoCo', 'DenseCL', 'BYOL', 'MoCoV3')
