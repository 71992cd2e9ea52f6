"""The results blocks of the README and docs/results/README.md are generated from the committed
run records, read by one rule, and a hand edit is found; tables count the untrained network once
per seed, mark transcribed runs and warn when they mix code versions."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emanplug.evaluation.provenance import mixed_code_warning
from emanplug.evaluation.report import Spec, compare, update
from emanplug.evaluation.results import TRANSCRIBED, table

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / 'docs' / 'results' / 'report.toml'


def run(scheme, seed, final, floor=None, at=None, **extra):
    metric = [(0, floor)] if floor is not None else []
    metric += [(4, at if at is not None else final), (16, final)]
    return dict(name=f'{scheme}_seed{seed}', method='MoCo', scheme=scheme, seed=seed, final=final,
                floor=floor, metric=metric, loss=[], metric_name='kNN top-1', **extra)


def test_the_rule_calls_a_difference_under_one_pooled_sd_or_with_disagreeing_seeds_a_tie():
    a = [run('a', 0, 36.0), run('a', 1, 34.0)]           # mean 35.0, sd 1.41
    b = [run('b', 0, 34.5), run('b', 1, 33.5)]           # mean 34.0, sd 0.71: pooled 1.12 > 1.0
    assert compare(a, b)['reading'] == 'tie' and 'pooled' in compare(a, b)['why']
    c = [run('c', 0, 33.0), run('c', 1, 33.4)]           # +3.0 / +0.6: ahead on both seeds
    out = compare(a, c)
    assert out['reading'] == 'ahead' and out['per_seed'] == pytest.approx([3.0, 0.6])
    assert compare(c, a)['reading'] == 'behind'
    mixed = compare([run('f', 0, 40.0), run('f', 1, 33.0)], [run('g', 0, 30.0), run('g', 1, 33.5)])
    assert mixed['reading'] == 'tie' and mixed['why'] == 'seeds disagree'
    assert compare([run('h', 0, 50.0)], b)['reading'] == 'tie'   # one seed: no reading
    assert compare(a, c, at=4)['per_seed'] == pytest.approx([3.0, 0.6])


def test_the_committed_blocks_are_what_the_records_give():
    assert update(Spec(str(SPEC)), check=True) == []


def test_a_hand_edited_cell_fails_the_check_with_one_line(tmp_path):
    (tmp_path / 'docs' / 'results').mkdir(parents=True)
    shutil.copy(SPEC, tmp_path / 'docs' / 'results' / 'report.toml')
    (tmp_path / 'docs' / 'results' / 'runs').symlink_to(ROOT / 'docs' / 'results' / 'runs')
    shutil.copy(ROOT / 'docs' / 'results' / 'README.md', tmp_path / 'docs' / 'results' / 'README.md')
    readme = (ROOT / 'README.md').read_text()
    head, sep, tail = readme.partition('<!-- results:glance')
    cell = tail.index(' ± ')
    digit = tail[cell - 1]
    edited = head + sep + tail[:cell - 1] + str((int(digit) + 1) % 10) + tail[cell:]
    (tmp_path / 'README.md').write_text(edited)
    spec = Spec(str(tmp_path / 'docs' / 'results' / 'report.toml'))
    assert update(spec, check=True) == [('README.md', 'glance')]
    cmd = [sys.executable, '-m', 'emanplug.cli.summarize', '--report', 'docs/results/report.toml', '--check']
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    lines = (out.stdout + out.stderr).strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, lines
    assert lines[0].startswith('error: results blocks differ') and 'README.md block glance' in lines[0]
    assert (tmp_path / 'README.md').read_text() == edited       # --check writes nothing
    update(spec)                                                 # the fix: regenerate
    assert (tmp_path / 'README.md').read_text() == readme


def test_the_floor_counts_each_seed_once_and_transcribed_cells_are_marked():
    runs = [run(s, seed, 35.0 + seed, floor=28.0 + 2 * seed) for s in ('bn-bn', 'bn-eman', 'bn-eman0.9')
            for seed in (0, 1, 2)]
    runs.append(run('bn-shufflebn', 0, 37.0, floor=28.0, source='transcribed'))
    md = table(runs)
    floor = next(line for line in md.splitlines() if line.startswith('| untrained (floor)'))
    assert '30.00 ± 2.00 (3)' in floor             # seeds 0, 1, 2 once each: 28, 30, 32
    assert f'37.00 (1){TRANSCRIBED}' in md and 'transcribed' in md.splitlines()[-1]
    assert f'35.00 ± 1.00 (3){TRANSCRIBED}' not in md


def _commit(repo: Path, text: str, notes: str = '') -> str:
    (repo / 'emanplug' / 'core').mkdir(parents=True, exist_ok=True)
    (repo / 'emanplug' / 'core' / 'teacher.py').write_text(text)
    (repo / 'notes.txt').write_text(notes)
    git = ['git', '-C', str(repo), '-c', 'user.name=t', '-c', 'user.email=t@t']
    subprocess.run(git + ['add', '-A'], check=True, capture_output=True)
    subprocess.run(git + ['commit', '-qm', text], check=True, capture_output=True)
    return subprocess.run(git + ['rev-parse', 'HEAD'], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_a_table_that_mixes_code_versions_warns(tmp_path):
    subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
    first = _commit(tmp_path, 'a')
    same_code = _commit(tmp_path, 'a', notes='only the notes change')  # not the result code
    other = _commit(tmp_path, 'b')
    runs = lambda *commits: [run('bn-bn', i, 35.0, provenance=dict(commit=c)) for i, c in enumerate(commits)]
    assert mixed_code_warning(runs(first, same_code), str(tmp_path)) is None
    warning = mixed_code_warning(runs(first, other), str(tmp_path))
    assert warning.startswith('warning: ') and 'code differs' in warning and first[:7] in warning
    legacy = runs(first) + [run('bn-eman', 0, 34.0), run('bn-eman', 1, 33.0, source='README')]
    warning = mixed_code_warning(legacy, str(tmp_path))
    assert '1 run(s) with no recorded commit' in warning and '1 transcribed' in warning
