"""The README's commands in a fresh shell: the activation line it documents, then cheap
versions of its commands (the tools/*.py scripts and the console scripts); and the one-line
message of tools/*.py in a Python without emanplug."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from speedups import run_side_by_side

ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'
VENV = Path(sys.prefix)  # the environment of these tests (in CI: .venv, which the README names)


def activation_line() -> str:
    """The README's activation line, for the environment of these tests."""
    found = re.findall(r'^ {4}(source \.venv/bin/activate)$', (ROOT / 'README.md').read_text(), re.M)
    assert found, 'README.md shows no "    source .venv/bin/activate" line'
    if VENV.resolve() == (ROOT / '.venv').resolve():
        return found[0]
    return f'source {VENV / "bin" / "activate"}'  # e.g. EMANPLUG_VENV=/elsewhere


def fresh_env() -> dict:
    """A shell environment as a new terminal has it: no venv on PATH, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env['PATH'] = os.pathsep.join(p for p in env.get('PATH', '/usr/bin:/bin').split(os.pathsep)
                                  if Path(p).resolve() != (VENV / 'bin').resolve())
    return env


@pytest.fixture(scope='module')
def shell():
    if not (VENV / 'bin' / 'activate').is_file():
        pytest.skip(f'the tests do not run in a virtual environment ({sys.prefix})')
    activate = activation_line()

    def run(*commands: str) -> list:
        """Runs the commands side by side (each is mostly imports on one core); their stdouts."""
        results = run_side_by_side([['bash', '--noprofile', '--norc', '-c', f'{activate} && {command}']
                                    for command in commands], timeout=120, cwd=ROOT, env=fresh_env())
        for command, (code, stdout, stderr) in zip(commands, results):
            assert code == 0, f'{command}\n{stdout[-2000:]}\n{stderr[-2000:]}'
        return [stdout for _, stdout, _ in results]
    return run


def test_the_documented_commands_run_after_the_activation_line(shell, tmp_path):
    for cls in ('cat', 'dog'):  # a tiny ImageFolder: make_split only lists the files
        (tmp_path / 'data' / 'train' / cls).mkdir(parents=True)
        for i in range(4):
            (tmp_path / 'data' / 'train' / cls / f'{i}.png').write_bytes(b'')
    check, console, export, _, summary = shell(
        f'python tools/train.py {CONFIG} --check-only',
        f'emanplug-train {CONFIG} --check-only',
        'python tools/export_backbone.py --help',
        f'python tools/make_split.py {tmp_path / "data"} --num-labeled 4 --seed 0',
        f'python tools/summarize_runs.py --records docs/results/runs/table1_cifar10 --out {tmp_path / "t1"}')
    assert 'config OK' in check and 'config OK' in console
    assert '--model {student,teacher}' in export
    split = (tmp_path / 'data' / 'splits' / 'train_4_seed0.txt').read_text().split()
    assert len(split) == 4 and {s.split('/')[0] for s in split} == {'cat', 'dog'}
    assert '| student-teacher |' in summary and (tmp_path / 't1.md').is_file()


def test_tools_in_a_python_without_emanplug_print_one_line(tmp_path):
    python = shutil.which('python3', path='/usr/bin:/bin')
    if python is None:
        pytest.skip('no python3 in /usr/bin:/bin')
    has = subprocess.run(['/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'python3', '-c',
                          'import importlib.util as u; print(u.find_spec("emanplug") is not None)'],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    if has.stdout.strip() != 'False':
        pytest.skip(f'{python} has emanplug installed')
    result = subprocess.run(['/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'python3', 'tools/train.py', 'x.py'],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode != 0 and len(lines) == 1, lines
    assert lines[0].startswith('error: emanplug is not installed in ') and 'source .venv/bin/activate' in lines[0]
