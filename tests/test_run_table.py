"""tools/run_table.py: a table of (config x seed) runs that skips finished runs, resumes
interrupted ones and writes the summary after every run."""
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / 'configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py')
# one short epoch: 13 train images per class (130 images, 2 iterations of 64)
ONE_EPOCH = ['--cfg-options', 'train_cfg.max_epochs=1', 'train_dataloader.dataset.num_per_class=13']


def test_table_runs_skips_finished_and_summarises(tmp_path, capsys):
    from emanplug.cli import run_table
    work, out = tmp_path / 'table', tmp_path / 'docs' / 'table'
    results = run_table.run([CONFIG, '--seeds', '0', '1', '--work-dir', str(work),
                              '--out', str(out), '--records', str(tmp_path / 'runs'), *ONE_EPOCH])
    assert [(r['seed'], r['scheme'], r['method']) for r in results] == [(0, 'bn-eman', 'MoCo'),
                                                                          (1, 'bn-eman', 'MoCo')]
    for r in results:
        assert 0 < r['floor'] <= 100 and 0 < r['final'] <= 100
    run0 = work / Path(CONFIG).stem / 'seed0'
    assert json.loads((run0 / 'result.json').read_text())['final'] == results[0]['final']
    table = (tmp_path / 'docs' / 'table.md').read_text()
    assert '| untrained (floor) |' in table and '| bn-eman |' in table and '(2)' in table
    assert (tmp_path / 'docs' / 'table.png').stat().st_size > 10000
    records = sorted(p.name for p in (tmp_path / 'runs').iterdir())
    assert records == [f'{Path(CONFIG).stem}_seed{k}.json' for k in (0, 1)]
    assert json.loads((tmp_path / 'runs' / records[0]).read_text())['minutes'] == results[0]['minutes']
    capsys.readouterr()
    # a second call trains nothing: every run is finished
    again = run_table.run([CONFIG, '--seeds', '0', '1', '--work-dir', str(work), '--out', str(out),
                            *ONE_EPOCH])
    assert again == results and '[run]' not in capsys.readouterr().out


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    from emanplug.cli import run_table
    directory = tmp_path / 'cfg' / 'seed0'
    directory.mkdir(parents=True)
    cmd = run_table.train_command(CONFIG, 0, str(directory), 1, [])
    assert '--resume' not in cmd and cmd[-1] == 'randomness.seed=0'
    (directory / 'last_checkpoint').write_text('epoch_3.pth')
    bash, script = run_table.train_command(CONFIG, 0, str(directory), 2, [])[:2]
    assert bash == 'bash' and os.path.samefile(script, ROOT / 'tools' / 'dist_train.sh')
    assert '--resume' in run_table.train_command(CONFIG, 0, str(directory), 1, [])


def test_bad_config_and_procs_suffix(tmp_path):
    from emanplug.cli import run_table
    from emanplug.errors import ConfigError
    assert run_table.parse_item('a/b.py:2', 1) == ('a/b.py', 2)
    assert run_table.parse_item('a/b.py', 3) == ('a/b.py', 3)
    with pytest.raises(ConfigError, match="config 'missing.py' does not exist"):
        run_table.run(['missing.py', '--work-dir', str(tmp_path)])


def test_validation_points_sit_at_their_training_iteration(tmp_path):
    """mmengine logs validation rows of iteration-based loops with step 0 (the epoch): the
    results tool places them at the last training iteration instead, and the FixMatch
    supervised baseline becomes the row 'supervised'."""
    from emanplug.evaluation.results import load_run
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'config.py').write_text("model = dict(type='FixMatch', scheme=None, unsup_weight=0.0)\n"
                                   "randomness = dict(seed=3)\n")
    rows = [dict(loss=2.0, step=250), dict(loss=1.5, step=500), dict(top1=40.0, step=0),
            dict(loss=1.2, step=1000), dict(top1=50.0, step=0)]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    run = load_run(str(tmp_path))
    assert run['metric'] == [(500, 40.0), (1000, 50.0)] and run['final'] == 50.0
    assert (run['method'], run['scheme'], run['seed'], run['floor']) == ('FixMatch', 'supervised', 3, None)


def test_a_resumed_run_keeps_the_curve_and_floor_of_its_first_start(tmp_path):
    """Each start of a resumed run logs into its own timestamped folder."""
    from emanplug.evaluation.results import load_run
    starts = {'20260101_000000': [dict(loss=6.0, step=10), {'knn/student_top1': 0.29, 'epoch': 0, 'step': 0},
                                  {'knn/student_top1': 0.31, 'epoch': 1, 'step': 10}],
              '20260102_000000': [dict(loss=5.0, step=20), {'knn/student_top1': 0.35, 'epoch': 2, 'step': 20}]}
    for stamp, rows in starts.items():
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        (vis / 'config.py').write_text("model = dict(type='EMAMoCo', scheme='bn-eman')\n")
        (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    run = load_run(str(tmp_path))
    assert [(x, round(y, 6)) for x, y in run['metric']] == [(0, 29.0), (1, 31.0), (2, 35.0)]
    assert run['loss'] == [(10, 6.0), (20, 5.0)]
    assert (round(run['floor'], 6), round(run['final'], 6), run['scheme']) == (29.0, 35.0, 'bn-eman')


def test_supervised_classifier_is_the_ceiling_row_of_the_knn_columns():
    """Table 1's supervised run (a classifier, kNN of its backbone) sits in the 'supervised'
    row of MoCo and BYOL, not in a column of its own; its floor is not mixed into theirs."""
    from emanplug.evaluation.results import table
    runs = [dict(method='MoCo', scheme='bn-eman', final=35.0, floor=29.0),
            dict(method='MoCo', scheme='bn-eman', final=36.0, floor=29.0),
            dict(method='BYOL', scheme='bn-bn', final=40.0, floor=28.0),
            dict(method='Supervised', scheme='supervised', final=66.0, floor=31.7),
            dict(method='FixMatch', scheme='supervised', final=57.7, floor=None)]
    lines = table(runs).splitlines()
    assert lines[0] == '| student-teacher | BYOL | FixMatch | MoCo |'
    rows = {line.split(' | ')[0].strip('| '): line for line in lines[2:]}
    assert rows['untrained (floor)'] == '| untrained (floor) | 28.00 (1) | - | 29.00 ± 0.00 (2) |'
    assert rows['supervised'] == '| supervised | 66.00 (1) | 57.70 (1) | 66.00 (1) |'
    assert rows['bn-eman'] == '| bn-eman | - | - | 35.50 ± 0.71 (2) |'
    # alone, the classifier keeps its own column
    assert table(runs[3:4]).splitlines()[0] == '| student-teacher | Supervised |'


def test_epoch_table_counts_iterations_for_fixmatch():
    """FixMatch is evaluated every n iterations: its columns are iterations, MoCo's epochs;
    cells are mean ± std over the seeds, a point a run did not log is left out."""
    from emanplug.evaluation.results import epoch_table
    fixmatch = [dict(method='FixMatch', scheme='bn-eman', final=66.0, metric=[(1000, 50.0), (8000, 66.0)]),
                dict(method='FixMatch', scheme='bn-eman', final=67.0, metric=[(1000, 52.0), (8000, 67.0)])]
    lines = epoch_table(fixmatch, [1000, 4000]).splitlines()
    assert lines[0] == '| method | student-teacher | iteration 1000 | iteration 4000 | final | runs |'
    assert lines[2] == '| FixMatch | bn-eman | 51.00 ± 1.41 | - | 66.50 ± 0.71 | 2 |'
    moco = [dict(method='MoCo', scheme='bn-bn', final=35.0, metric=[(0, 29.0), (4, 33.0)])]
    assert epoch_table(moco, [0, 4]).splitlines()[2] == '| MoCo | bn-bn | 29.00 | 33.00 | 35.00 | 1 |'


def test_fixmatch_records_keep_mask_rate_and_pseudo_label_precision(tmp_path):
    """FixMatch's mask rate and pseudo-label precision survive in the run record and are
    drawn by --curves; the evaluated model's top-1 is the run's curve, at its iteration."""
    from emanplug.cli import summarize
    vis = tmp_path / 'w' / 'fixmatch_bn-eman' / 'seed0' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'config.py').write_text("model = dict(type='FixMatch', scheme='bn-eman')\n"
                                   "randomness = dict(seed=0)\n")
    rows = [dict(loss=2.0 - k, mask_rate=0.1 * k, pseudo_acc=0.8, step=20 * k) for k in (1, 2)]
    rows.append({'top1': 51.5, 'student/top1': 50.0, 'teacher/top1': 51.5, 'step': 0})
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    records, out = tmp_path / 'records', str(tmp_path / 't')
    # the folder emanplug-run-table writes (<work-dir>/<config>/seed<k>) is found as it is
    summarize.run([str(tmp_path / 'w'), '--records', str(records), '--out', out,
                   '--curves', 'mask_rate', 'pseudo_acc'])
    record = json.loads((records / 'fixmatch_bn-eman_seed0.json').read_text())
    assert record['metric'] == [[40, 51.5]]
    assert record['diagnostics']['mask_rate'] == [[20, 0.1], [40, 0.2]]
    assert record['diagnostics']['pseudo_acc'] == [[20, 0.8], [40, 0.8]]
    assert (tmp_path / 't_curves.png').stat().st_size > 10000


def _fake_run(work_dir, seed, finals, scheme='bn-eman'):
    """A finished MoCo run's work dir (log only): kNN top-1 0.29 before training, then ``finals``."""
    vis = work_dir / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'config.py').write_text(f"model = dict(type='EMAMoCo', scheme='{scheme}')\n"
                                   f"randomness = dict(seed={seed})\n")
    rows = [{'knn/student_top1': 0.29, 'epoch': 0, 'step': 0}]
    for epoch, top1 in enumerate(finals, 1):
        rows += [dict(loss=7.0 - epoch, step=10 * epoch),
                 {'knn/student_top1': top1, 'epoch': epoch, 'step': 10 * epoch}]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in rows))


def test_records_rebuild_the_table_after_the_work_dirs_are_gone(tmp_path):
    """Work dirs are not committed: --records keeps what the table needs, a later machine's
    runs add to it, and a rerun of a recorded run replaces its record."""
    import shutil

    from emanplug.cli import summarize
    records, out = tmp_path / 'records', str(tmp_path / 'table')
    cfg = tmp_path / 'work' / 'mocov2_cfg_bn-eman'
    _fake_run(cfg / 'seed0', 0, [0.33, 0.35])
    first = summarize.run([str(cfg / 'seed0'), '--records', str(records), '--out', out])
    assert [p.name for p in records.iterdir()] == ['mocov2_cfg_bn-eman_seed0.json']
    table_before = (tmp_path / 'table.md').read_text()
    shutil.rmtree(tmp_path / 'work')
    # the records alone give the same table and curves
    alone = summarize.run(['--records', str(records), '--out', out])
    assert (tmp_path / 'table.md').read_text() == table_before
    def rounded(run):
        return [round(run['final'], 4), round(run['floor'], 4), run['loss'],
                [(x, round(y, 4)) for x, y in run['metric']]]
    assert [rounded(r) for r in alone] == [rounded(first[0])]
    # a new machine runs seed 1: the table holds both seeds
    _fake_run(cfg / 'seed1', 1, [0.31, 0.33])
    both = summarize.run([str(cfg / 'seed1'), '--records', str(records), '--out', out])
    assert sorted(r['seed'] for r in both) == [0, 1]
    assert '| bn-eman | 34.00 ± 1.41 (2) |' in (tmp_path / 'table.md').read_text()
    # rerunning seed 0 (its work dir is back) replaces its record rather than adding a third run
    _fake_run(cfg / 'seed0', 0, [0.33, 0.37])
    rerun = summarize.run([str(cfg / 'seed0'), '--records', str(records), '--out', out])
    assert sorted((r['seed'], round(r['final'], 6)) for r in rerun) == [(0, 37.0), (1, 33.0)]


def test_a_bad_record_is_named(tmp_path):
    from emanplug.cli import summarize
    from emanplug.errors import ConfigError
    (tmp_path / 'broken.json').write_text('{"name": "broken", "final": 1.0}')
    with pytest.raises(ConfigError, match=r'run record .*broken\.json lacks method, scheme'):
        summarize.run(['--records', str(tmp_path), '--out', str(tmp_path / 't')])
    (tmp_path / 'broken.json').write_text('not json')
    with pytest.raises(ConfigError, match=r'run record .*broken\.json is not readable JSON'):
        summarize.run(['--records', str(tmp_path), '--out', str(tmp_path / 't')])
    with pytest.raises(ConfigError, match='no finished runs under nothing given'):
        summarize.run(['--out', str(tmp_path / 't')])


def test_row_suffix_and_recorded_curves_side_by_side(tmp_path):
    """A config's row_suffix marks its rows; --curves draws the loss and the recorded
    similarity curves of every run side by side, and names what it cannot draw."""
    from emanplug.cli import summarize
    from emanplug.errors import ConfigError
    _fake_run(tmp_path / 'w' / 'moco_bn-eman' / 'seed0', 0, [0.33, 0.35])
    _fake_run(tmp_path / 'w' / 'moco_m98_bn-eman' / 'seed0', 0, [0.34, 0.36])
    cfg = tmp_path / 'w' / 'moco_m98_bn-eman' / 'seed0' / '20260101_000000' / 'vis_data'
    (cfg / 'config.py').write_text((cfg / 'config.py').read_text() + "row_suffix = 'm0.98'\n")
    scalars = cfg / 'scalars.json'
    scalars.write_text(scalars.read_text() + ''.join(
        json.dumps(dict(loss=6.0, pos_sim=0.1 * k, neg_sim_max=0.5, step=10 * k)) + '\n' for k in (3, 4)))
    out = str(tmp_path / 't')
    dirs = [str(tmp_path / 'w' / c / 'seed0') for c in ('moco_bn-eman', 'moco_m98_bn-eman')]
    runs = summarize.run([*dirs, '--out', out, '--curves', 'loss', 'pos_sim', 'teacher_output_std'])
    assert sorted(r['scheme'] for r in runs) == ['bn-eman', 'bn-eman+m0.98']
    m98 = next(r for r in runs if r['scheme'] == 'bn-eman+m0.98')
    assert m98['diagnostics']['pos_sim'] == [(30, 0.30000000000000004), (40, 0.4)]
    assert '| bn-eman+m0.98 | 36.00 (1) |' in (tmp_path / 't.md').read_text()
    assert (tmp_path / 't_curves.png').stat().st_size > 10000
    only = summarize.run([*dirs, '--out', out, '--match', 'm98'])
    assert [r['scheme'] for r in only] == ['bn-eman+m0.98']
    with pytest.raises(ConfigError, match='no finished runs whose name contains nope or xyz under'):
        summarize.run([*dirs, '--out', out, '--match', 'nope', 'xyz'])
    with pytest.raises(ConfigError, match='--curves nope: no run recorded any of them; allowed: loss'):
        summarize.run([*dirs, '--out', out, '--curves', 'nope'])
