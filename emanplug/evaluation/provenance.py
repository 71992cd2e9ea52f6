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
