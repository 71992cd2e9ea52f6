"""emanplug installed from its wheel into someone else's environment: the wheel holds every
config and tool, installing it changes none of the installed stack (torch, torchvision, mmcv
and the rest are reused), and every console script works from a folder that is not a checkout:
the quickstart, a user's config that inherits ``emanplug::<family>/<config>.py``, and
distributed training with 2 gloo processes.

The "existing environment" is a fresh virtual environment that sees this test's installed
stack through a ``.pth`` file (a folder of links to every installed distribution except
emanplug's own editable install), so that pip, run with ``--no-index``, must find every
requirement already satisfied."""
import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = 'quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
SKIP = ('.git', '.venv', 'work_dirs', 'data', 'build', '__pycache__', '*.egg-info', '.pytest_cache')


def run(cmd, cwd, timeout=600, env=None):
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, f'{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result


def build_wheel(out: Path) -> Path:
    """The wheel of a copy of the checkout (the build writes build/ and *.egg-info/ there)."""
    source = out / 'source'
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*SKIP))
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
         '-w', out / 'dist', source], cwd=out)
    wheels = glob.glob(str(out / 'dist' / 'emanplug-*.whl'))
    assert len(wheels) == 1, wheels
    return Path(wheels[0])


def stack_without_emanplug(out: Path) -> Path:
    """A folder of links to everything installed here but emanplug itself."""
    site = Path(sysconfig.get_paths()['purelib'])
    stack = out / 'stack'
    stack.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if 'emanplug' in name or name.endswith('.pth') or name in ('pip', '__pycache__') \
                or name.startswith('pip-'):
            continue
        (stack / entry.name).symlink_to(entry)
    return stack


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(python, bin folder, pip's report) of a fresh venv with the wheel installed (not editable)."""
    out = tmp_path_factory.mktemp('packaging')
    wheel = build_wheel(out)
    venv = out / 'venv'
    run([sys._base_executable, '-m', 'venv', venv], cwd=out)
    python = venv / 'bin' / 'python'
    # the environment's setuptools, not the one a new venv gets (torch needs a newer one)
    run([python, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'], cwd=out)
    site = run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], cwd=out)
    Path(site.stdout.strip(), 'existing_stack.pth').write_text(f'{stack_without_emanplug(out)}\n')
    report = out / 'report.json'
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)  # no local wheel folders: the wheel alone
    run([python, '-m', 'pip', 'install', '--no-index', '--report', report, '-q', wheel], cwd=out, env=env)
    return python, venv / 'bin', json.loads(report.read_text()), wheel


def test_wheel_ships_every_config_and_tool(installed):
    wheel = installed[3]
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*')
               if p.is_file() and p.suffix in ('.py', '.yml', '.md')}
    tools = {str(p.relative_to(ROOT)) for p in (ROOT / 'tools').iterdir() if p.suffix in ('.py', '.sh')}
    missing = {p for p in configs | tools if f'emanplug/.mim/{p}' not in names}
    assert not missing, sorted(missing)
    assert 'emanplug/.mim/model-index.yml' in names
    assert len(configs) > 200 and len(tools) > 10


def test_installing_into_an_existing_environment_changes_nothing_installed(installed):
    python, _, report, _ = installed
    planned = sorted(item['metadata']['name'] for item in report['install'])
    assert planned == ['emanplug'], planned  # torch, torchvision, mmcv, ... all reused
    where = run([python, '-c', 'import emanplug, mmcv, torch; print(emanplug.__file__); '
                 'print(torch.__file__)'], cwd=installed[1]).stdout.split()
    venv = str(installed[1].parent)
    assert where[0].startswith(venv) and 'site-packages' in where[0], where  # the wheel's copy
    assert '/stack/' in where[1], where  # the environment's own torch


@pytest.mark.smoke  # 80 s on 2 cores: in .ci/run's smoke part
@pytest.mark.dist
def test_console_scripts_work_outside_a_checkout(installed, tmp_path):
    _, bin_dir, _, _ = installed
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}', OMP_NUM_THREADS='1')
    short = ['train_cfg.max_epochs=1', 'train_dataloader.num_batch_per_epoch=2']
    # the quickstart (one row, 2 iterations) on the digits that ship with scikit-learn
    out = run([bin_dir / 'emanplug-quickstart', '--schemes', 'bn-eman', '--cfg-options', *short],
              cwd=tmp_path, env=env).stdout
    assert 'configs/quickstart/' in out and (tmp_path / 'work_dirs' / 'quickstart').is_dir()
    # a user's config inheriting one of emanplug's, trained by emanplug-train, then by
    # emanplug-dist-train with 2 gloo processes
    (tmp_path / 'my_config.py').write_text(
        f"_base_ = 'emanplug::{QUICKSTART}'\ntrain_cfg = dict(max_epochs=1)\n"
        "train_dataloader = dict(num_batch_per_epoch=2)\n")
    run([bin_dir / 'emanplug-train', 'my_config.py', '--work-dir', 'one'], cwd=tmp_path, env=env)
    assert (tmp_path / 'one' / 'epoch_1.pth').is_file()
    env['PORT'] = str(__import__('test_imagenet_smoke').free_port())
    run([bin_dir / 'emanplug-dist-train', 'my_config.py', '2', '--work-dir', 'two'],
        cwd=tmp_path, env=env)
    assert (tmp_path / 'two' / 'epoch_1.pth').is_file()
    # the evaluation of that checkpoint, and a resumable table of runs (one seed)
    metrics = run([bin_dir / 'emanplug-test', 'my_config.py', 'two/epoch_1.pth', '--work-dir', 'eval'],
                  cwd=tmp_path, env=env).stdout
    assert 'knn/student_top1' in metrics
    run([bin_dir / 'emanplug-run-table', 'my_config.py', '--seeds', '0', '--work-dir', 'table'],
        cwd=tmp_path, env=env)
    assert json.loads((tmp_path / 'table' / 'my_config' / 'seed0' / 'result.json').read_text())['method'] == 'MoCo'
