"""The ImageNet evaluation configs (``configs/{mocov2,byol}/benchmarks/``: linear classification
on 1 / 10 / 100 % of the labels, fine-tuning on 1 / 10 %) and their provenance
(``metafile.yml`` beside them) cannot drift apart: the same reading rule as
tests/test_metafiles.py (whose helpers this file uses), for a layout where a family's rows
inherit a main config of the folder and a collection's entries are checked against every
config of the collection.  No model is built."""
import re
from pathlib import Path

import pytest
from test_metafiles import config, load, mismatches, resolve

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ('mocov2', 'byol')
META = {f: load(ROOT / 'configs' / f / 'benchmarks' / 'metafile.yml') for f in FOLDERS}
COLLECTIONS = {c['Name']: c for meta in META.values() for c in meta['Collections']}
MODELS = [m for meta in META.values() for m in meta['Models']]
# the pretraining run a config's backbone starts from: work_dirs/<pretraining config>/epoch_<N>.pth
RUN = re.compile(r'^work_dirs/([^/]+)/epoch_(\d+)\.pth$')


def configs_of(collection):
    return [collection['Main Config']] + [m['Config'] for m in MODELS if m['In Collection'] == collection['Name']]


def test_every_benchmark_config_is_listed_once():
    listed = [p for c in COLLECTIONS.values() for p in configs_of(c)]
    assert len(listed) == len(set(listed)), sorted(p for p in listed if listed.count(p) > 1)
    on_disk = {str(p.relative_to(ROOT)) for f in FOLDERS for p in (ROOT / 'configs' / f / 'benchmarks').glob('*.py')}
    assert on_disk == set(listed), dict(unlisted=sorted(on_disk - set(listed)), missing=sorted(set(listed) - on_disk))


@pytest.mark.parametrize('name', sorted(COLLECTIONS))
def test_collection_is_complete_sourced_and_matches_its_main_config(name):
    c = COLLECTIONS[name]
    for field in ('Metadata', 'Paper', 'README', 'Code', 'Main Config', 'Hyperparameters', 'Results'):
        assert c.get(field), f'{name}: no {field}'
    for hp, entry in c['Hyperparameters'].items():
        assert {'Key', 'Value', 'Source'} <= set(entry) and str(entry['Source']).strip(), f'{name} / {hp}'
    wrong = mismatches(config(c['Main Config']), c['Hyperparameters'])
    assert not wrong, '\n'.join([c['Main Config']] + wrong)


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_row_inherits_its_main_config_and_matches_its_entries(model):
    collection = COLLECTIONS[model['In Collection']]
    path = ROOT / model['Config']
    assert model['Name'] == path.stem
    main = ROOT / collection['Main Config']
    base = re.search(r"^_base_ = '\./([^']+)'$", path.read_text(), re.M)
    assert base and base.group(1) == main.name, f'{path.name} does not inherit {main.name}'
    wrong = mismatches(config(model['Config']), {**collection['Hyperparameters'], **(model.get('Hyperparameters') or {})})
    assert not wrong, '\n'.join([model['Config']] + wrong)


@pytest.mark.parametrize('path', sorted({p for c in COLLECTIONS.values() for p in configs_of(c)}))
def test_batch_epochs_grid_and_initialisation_are_consistent(path):
    cfg = config(path)
    entry = next((m for m in MODELS if m['Config'] == path), None)
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', path).groups())
    assert per_gpu == cfg['train_dataloader']['batch_size']
    if entry is not None:
        assert entry['Metadata']['Batch Size'] == gpus * per_gpu
        assert entry['Metadata']['Epochs'] == cfg['train_cfg']['max_epochs']
    grid = cfg['lr_grid']  # the paper's search: the config's own value is one of the grid's
    assert len(grid['values']) == 3 and resolve(cfg, grid['key']) in grid['values'], (grid, resolve(cfg, grid['key']))
    init = cfg['model']['backbone']['init_cfg']
    assert init['type'] == 'SelfSupPretrained' and init['model'] == 'student'
    run, epochs = RUN.match(init['checkpoint']).groups()
    family = path.split('/')[1]
    pretraining = ROOT / 'configs' / family / f'{run}.py'
    assert pretraining.is_file() and '_bn-eman' in run, run
    assert config(str(pretraining.relative_to(ROOT)))['train_cfg']['max_epochs'] == int(epochs)


@pytest.mark.parametrize('name', sorted(COLLECTIONS) + [m['Name'] for m in MODELS])
def test_paper_numbers_are_table2s(name):
    entry = COLLECTIONS.get(name) or next(m for m in MODELS if m['Name'] == name)
    (result,) = entry['Results']
    assert result['Dataset'] == 'ImageNet-1k' and 'paper Table 2' in result['Source']
    pct = re.search(r'in1k-(\d+)pct', entry.get('Config') or entry['Main Config'])
    assert result['Protocol'] == f'{pct.group(1) if pct else 100} % labels'
    metrics = result['Metrics']
    assert 0 < metrics['Top 1 Accuracy'] < metrics['Top 5 Accuracy'] < 100
