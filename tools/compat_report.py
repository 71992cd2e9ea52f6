"""One row of docs/compat.md, written by tools/compat_matrix.sh with the row's own Python (so
that the versions are the ones that row really installed); the other rows are kept.

    python tools/compat_report.py ROW INSTALL STATUS INSTALL_SECONDS SUITE_SECONDS LOG COMPAT_MD
"""
import datetime
import importlib.metadata as metadata
import os
import platform
import re
import sys

PACKAGES = ('torch', 'torchvision', 'numpy', 'mmengine', 'mmcv', 'mmpretrain', 'lightly', 'setuptools')
ORDER = ('oldest', 'locked', 'newest', 'gpu-image')
HEADER = ['row', 'Python'] + list(PACKAGES) + ['install', 'compact suite', 'minutes (install + suite)', 'date']
INTRO = """# Compatibility matrix

Measured on this project's CPU machine (2 cores) by

    bash tools/compat_matrix.sh              # every row; or name rows: oldest locked newest gpu-image

one fresh virtual environment per row, then the compact suite (`tests/test_norms.py`,
`test_teacher_update.py`, `test_independence.py`, `test_compat.py`, `test_recipes.py`,
`test_mmpretrain_teachers.py`, `test_fixmatch.py`, `test_reliability.py`: core, every scheme,
short trainings of MoCo, DenseCL, BYOL, MoCo v3 and FixMatch, the recipes, the mmpretrain teacher
hook, safe loading).  The versions are those the row's environment reports (`mmcv` is mmcv-lite,
or on the GPU-image row the wheel folder's mmcv-lite).  Logs: `docs/compat/<row>.log`.
The supported ranges in `setup.cfg` and the README run from the oldest row to the newest.

"""


def version(name: str) -> str:
    for dist in (name, f'{name}-lite'):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return '-'


def summary(log: str) -> str:
    try:
        lines = [line.strip() for line in open(log) if line.strip()]
    except OSError:
        return '?'
    found = [line.strip('= ') for line in lines if re.search(r'\d+ (passed|failed|error)', line)]
    return found[-1] if found else (lines[-1][:80] if lines else '?')


def main(argv=None) -> None:
    row, install, status, install_s, suite_s, log, out = argv or sys.argv[1:]
    rows = {}
    if os.path.exists(out):
        for line in open(out):
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if line.startswith('|') and cells[0] in ORDER:
                rows[cells[0]] = line.rstrip('\n')
    suite = f'{status}: {summary(log)}' if install == 'ok' else 'not run'
    cells = [row, platform.python_version()] + [version(p) for p in PACKAGES] + [
        install, suite, f'{int(install_s) / 60:.1f} + {int(suite_s) / 60:.1f}',
        datetime.date.today().isoformat()]
    rows[row] = '| ' + ' | '.join(cells) + ' |'
    with open(out, 'w') as f:
        f.write(INTRO)
        f.write('| ' + ' | '.join(HEADER) + ' |\n|' + '---|' * len(HEADER) + '\n')
        for name in ORDER:
            if name in rows:
                f.write(rows[name] + '\n')


if __name__ == '__main__':
    main()
