"""mmpretrain's own tools (the ``tools/train.py`` and ``tools/dist_train.sh`` inside the
installed mmpretrain package, ``mmpretrain/.mim/tools``) train a user's config that lives
outside this checkout, inherits ``mmpretrain::...`` and adds emanplug's ``EMANTeacherHook``:
``custom_imports = dict(imports=['emanplug'])`` is all it takes (the stack fixes those tools need,
the data loader's ``collate_fn`` ``_scope_`` among them, come with the import).

For MoCo v2, DenseCL, BYOL and MoCo v3 (the four ``configs/mmpretrain_recipe/*_mmpretrain-model_*``
recipes, written out here as a user would), 3 iterations on a generated ImageNet, made small only
where the CPU cannot afford it (tests/imagenet_smoke_driver.py): with mmpretrain's
``tools/dist_train.sh`` on 2 gloo processes, and MoCo v2 also with its ``tools/train.py`` alone.
Smoke tests (EMANPLUG_SMOKE=1, .ci/run): about 3 minutes on 2 cores."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mmpretrain
import config_ledger as ledger
from test_imagenet_smoke import free_port
from test_mmpretrain_teachers import ITERS, RECIPE_DIR, RECIPES, imagenet, small_config  # noqa: F401  (fixture)

TOOLS = Path(mmpretrain.__file__).parent / '.mim' / 'tools'
ROOT = Path(__file__).resolve().parents[1]


def user_config(kind: str, folder: Path) -> Path:
    """The recipe's three lines as a user writes them, in a folder of their own."""
    recipe, _ = RECIPES[kind]
    text = (RECIPE_DIR / recipe).read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith('#')]
    assert lines[0].startswith("_base_ = 'mmpretrain::") and len(lines) == 3, lines
    assert "EMANTeacherHook" in lines[2] and "imports=['emanplug']" in lines[1]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'my_{recipe}'
    path.write_text('\n'.join(lines) + '\n')
    return path


def environment() -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    return dict(env, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', PORT=str(free_port()))


def check_run(result, work: Path, kind: str) -> None:
    assert result.returncode == 0, result.stderr[-4000:]
    attr = RECIPES[kind][1]
    assert f'{attr} is now an EMA teacher of scheme bn-eman' in result.stdout + result.stderr
    state = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert int(state['state_dict'][f'{attr}.steps']) == ITERS


@pytest.mark.smoke
@pytest.mark.dist
@pytest.mark.parametrize('kind', list(RECIPES))
def test_mmpretrains_dist_train_trains_a_user_recipe(kind, imagenet, tmp_path):
    # one case per recipe of the ledger's group (tests/config_ledger.py)
    assert sorted(RECIPE_DIR / r for r, _ in RECIPES.values()) == ledger.configs('mmpretrain-tools')
    cell = small_config(str(user_config(kind, tmp_path / 'project')), imagenet, tmp_path / 'cell')
    work = tmp_path / 'work'
    result = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), cell, '2', '--work-dir', str(work)],
                            capture_output=True, text=True, timeout=900, cwd=tmp_path,
                            env=environment())
    check_run(result, work, kind)


@pytest.mark.smoke
def test_mmpretrains_train_py_trains_a_user_recipe(imagenet, tmp_path):
    cell = small_config(str(user_config('MoCo', tmp_path / 'project')), imagenet, tmp_path / 'cell')
    work = tmp_path / 'work'
    result = subprocess.run([sys.executable, str(TOOLS / 'train.py'), cell, '--work-dir', str(work)],
                            capture_output=True, text=True, timeout=900, cwd=tmp_path,
                            env=environment())
    check_run(result, work, 'MoCo')
    assert not str(cell).startswith(str(ROOT))
