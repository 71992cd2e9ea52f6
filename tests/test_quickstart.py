"""tools/quickstart.py end to end, shortened to one epoch per run."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))


def test_quickstart_writes_table_plot_and_numbers(tmp_path):
    import quickstart
    results = quickstart.main(['--schemes', 'bn-bn', 'bn-eman', '--work-dir', str(tmp_path),
                               '--cfg-options', 'train_cfg.max_epochs=1'])
    assert [r['scheme'] for r in results] == ['bn-bn', 'bn-eman']
    for r in results:
        assert r['knn'][0]['epoch'] == 0 and r['knn'][-1]['epoch'] == 1  # floor, then trained
        assert 0 < r['knn'][-1]['knn/student_top1'] <= 1 and len(r['losses']) == 19
    table = (tmp_path / 'quickstart_table.md').read_text()
    assert '| bn-bn |' in table and '| bn-eman |' in table
    assert (tmp_path / 'quickstart_curves.png').stat().st_size > 10000
    assert json.loads((tmp_path / 'quickstart_results.json').read_text())[1]['scheme'] == 'bn-eman'
