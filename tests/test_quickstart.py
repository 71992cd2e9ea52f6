"""tools/quickstart.py (emanplug-quickstart) end to end, shortened to two epochs per run of
10 iterations each (32 train images per class, batches of 32; warm start on all 10): a short
console, the full MMEngine log in the work dir, the table, the plot and the numbers."""
import json

from emanplug.cli import quickstart


def test_quickstart_writes_table_plot_and_numbers(tmp_path, capsys):
    results = quickstart.run(['--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=2',
                              'train_dataloader.batch_size=32', 'train_dataloader.dataset.num_per_class=32'])
    schemes = ['bn-bn+warm10', 'bn-eman+warm10']  # the default: both teachers warm-started
    assert [r['scheme'] for r in results] == schemes
    for r in results:
        assert [epoch for epoch, _ in r['metric']] == [0, 2]  # floor, then trained
        assert [epoch for epoch, _ in r['teacher_metric']] == [0, 2]
        assert 0 < r['final'] <= 100 and r['floor'] == r['metric'][0][1] and r['iters'] == 20
    table = (tmp_path / 'quickstart_table.md').read_text()
    assert all(f'| {s} |' in table for s in schemes)
    assert (tmp_path / 'quickstart_curves.png').stat().st_size > 10000
    numbers = json.loads((tmp_path / 'quickstart_results.json').read_text())
    runs = numbers['runs']
    assert runs[1]['scheme'] == 'bn-eman+warm10' and runs[1]['teacher_metric'][-1][0] == 2
    # printed first: the BN teacher's output for sample 0 depends on its batch-mates, EMAN's not
    dependence = numbers['batch_dependence']
    assert dependence['bn-eman'] == dict(relative_change=0.0, bitwise_identical=True)
    assert dependence['bn-bn']['relative_change'] > 0.01
    # the console: a header and one line per epoch per run, then the table and the paths
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert len(lines) < 60, '\n'.join(lines)
    for scheme in schemes:
        epochs = [line for line in lines if line.startswith(f'[{scheme}] epoch')]
        assert len(epochs) == 2 and 'loss' in epochs[0] and 'kNN' in epochs[1]
        assert any(line.startswith(f'[{scheme}] untrained  kNN student') for line in lines)
        # MMEngine's log went to the work dir instead
        assert 'Epoch(train)' in (tmp_path / scheme / 'console.log').read_text()
    assert table.splitlines()[0] in lines and f'curves: {tmp_path / "quickstart_curves.png"}' in lines
    assert not any('Epoch(train)' in line or line.startswith('Config') for line in lines)
    assert lines[0].startswith("=== Does a teacher's output for one image depend")
    assert '(bitwise identical)' in lines[2] and 'EMAN teacher' in lines[2]
