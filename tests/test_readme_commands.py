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


DOCS = ['README.md', *sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'docs').rglob('*.md')
                             if 'compat' not in p.parts and 'bench' not in p.parts)]
#: A documented command's script, and the one whose options it takes (the launchers pass theirs on).
OPTIONS_OF = {'tools/dist_train.sh': 'tools/train.py', 'tools/dist_test.sh': 'tools/test.py',
              'tools/slurm_train.sh': 'tools/train.py'}


def _braces(text: str) -> list:
    """Bash's brace expansion of one word (``a_{x,y}.py`` -> ``a_x.py a_y.py``)."""
    m = re.search(r'\{([^{}]*,[^{}]*)\}', text)
    if not m:
        return [text]
    return [w for part in m.group(1).split(',') for w in _braces(text[:m.start()] + part + text[m.end():])]


def documented_commands() -> list:
    """``(file, command)`` for every command line of the README and docs/ that runs one of this
    repository's scripts (indented or fenced code; continuation lines joined)."""
    found = []
    for doc in DOCS:
        text = re.sub(r'\\\n\s*', ' ', (ROOT / doc).read_text())
        for line in text.splitlines():
            cmd = line.strip().split('  #')[0].strip()
            cmd = re.sub(r'^(\w+=\S+ )+', '', cmd)  # environment assignments
            if re.match(r'(python (tools|bench|examples)/\S+\.py|bash (tools|bench)/\S+\.sh)( |$)', cmd):
                found.append((doc, cmd))
    return found


def test_every_documented_command_names_existing_scripts_configs_and_options(shell):
    commands = documented_commands()
    assert len(commands) >= 40, commands  # the README and docs/ pages show this many
    wanted = {}
    for doc, cmd in commands:
        words = [w for word in cmd.split()[1:] for w in _braces(word)]
        script = words[0]
        assert (ROOT / script).is_file(), f'{doc}: {cmd}: no {script}'
        for word in words[1:]:
            path = word.split(':')[0].split('=')[-1]
            if path.startswith('configs/') and path.endswith('.py'):
                assert (ROOT / path).is_file(), f'{doc}: {cmd}: no {path}'
        options = {w.strip('[]').split('=')[0] for w in words[1:]
                   if re.fullmatch(r'--[a-z][\w-]*(=.*)?', w.strip('[]'))}
        target = OPTIONS_OF.get(script, script)
        if target.endswith('.py') and options:
            wanted.setdefault(target, set()).update((doc, o) for o in options)
    scripts = sorted(wanted)
    helps = shell(*(f'python {s} --help' for s in scripts))
    for script, text in zip(scripts, helps):
        for doc, option in sorted(wanted[script]):
            assert re.search(rf'{re.escape(option)}\b', text), f'{doc}: {script} has no option {option}'
