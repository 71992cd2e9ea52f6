"""Where a run comes from: the code (commit, uncommitted changes), the date, the machine (CPU
model, core count) and the stack (Python, torch), stored in a run's work dir when it starts
(``provenance.json``) and carried into its record, so that a table can say when it mixes
runs of different code or machines."""
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
from typing import Optional

FILE = 'provenance.json'


def _git(root: str, *args: str) -> Optional[str]:
    try:
        out = subprocess.run(['git', '-C', root, *args], capture_output=True, text=True,
                             timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect(code_dir: Optional[str] = None) -> dict:
    """The provenance of a run started now with the emanplug found in ``code_dir`` (default:
    the imported package's checkout; ``commit`` is None outside a git checkout)."""
    import torch

    import emanplug
    code_dir = code_dir or osp.dirname(osp.dirname(osp.abspath(emanplug.__file__)))
    commit = _git(code_dir, 'rev-parse', 'HEAD')
    status = _git(code_dir, 'status', '--porcelain', '--untracked-files=no') if commit else None
    return dict(commit=commit, dirty=bool(status) if commit else None,
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                cpu=cpu_model(), cores=os.cpu_count(), python=platform.python_version(),
                torch=torch.__version__, emanplug=emanplug.__version__)


def record_start(work_dir: str) -> dict:
    """Write ``work_dir/provenance.json`` for a run that starts now; a resumed run keeps the
    first start's provenance and adds this start's to ``resumed`` when its code differs."""
    path = osp.join(work_dir, FILE)
    now = collect()
    if osp.exists(path):
        with open(path) as f:
            first = json.load(f)
        if (now['commit'], now['dirty']) != (first.get('commit'), first.get('dirty')):
            first.setdefault('resumed', []).append(now)
        now = first
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(now, f, indent=1)
    return now


def load(work_dir: str) -> Optional[dict]:
    """The provenance stored in ``work_dir`` (None for runs started before it was kept)."""
    path = osp.join(work_dir, FILE)
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


#: The code a run's numbers depend on: the teacher and norms, the models, the evaluation.
RESULT_CODE = ('emanplug/core', 'emanplug/models', 'emanplug/evaluation/knn.py',
               'emanplug/evaluation/knn_hook.py', 'emanplug/evaluation/accuracy.py')


def _code_differs(root: str, commits: list) -> Optional[bool]:
    """Whether the ``RESULT_CODE`` differs between any two of ``commits`` (None: git cannot
    tell, e.g. outside a checkout or with a commit it does not have)."""
    first = commits[0]
    for other in commits[1:]:
        try:
            out = subprocess.run(['git', '-C', root, 'diff', '--quiet', first, other, '--', *RESULT_CODE],
                                 capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        if out.returncode not in (0, 1):
            return None
        if out.returncode == 1:
            return True
    return False


def mixed_code_warning(runs: list, root: Optional[str] = None) -> Optional[str]:
    """One warning line when ``runs`` (run records or :func:`emanplug.evaluation.results.load_run`
    runs) are not known to come from one version of the ``RESULT_CODE``: commits whose core,
    model or evaluation code differs, runs with no recorded commit, or transcribed runs; None
    when they all come from commits with the same such code."""
    root = root or osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    commits = sorted({(r.get('provenance') or {}).get('commit') for r in runs} - {None})
    copied = sum(1 for r in runs if r.get('source'))
    unknown = sum(1 for r in runs if not (r.get('provenance') or {}).get('commit') and not r.get('source'))
    parts = []
    if len(commits) > 1:
        differs = _code_differs(root, commits)
        if differs is not False:
            short = ', '.join(c[:7] for c in commits)
            parts.append(f'commits {short} ' + ('whose core, model or evaluation code differs' if differs
                                                 else '(git cannot compare them here)'))
    if unknown and (commits or copied):  # all unknown: nothing known to mix
        parts.append(f'{unknown} run(s) with no recorded commit (run before records kept it)')
    if copied:
        parts.append(f'{copied} transcribed run(s) (marked †)')
    if not parts:
        return None
    return f'warning: this table mixes {"; ".join(parts)}: compare its rows with that in mind'
