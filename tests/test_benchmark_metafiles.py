"""The evaluation configs (``configs/{mocov2,byol}/benchmarks/``: ImageNet linear classification on
1 / 10 / 100 % of the labels and fine-tuning on 1 / 10 % (Table 2), the frozen ImageNet protocols
(kNN, retrieval, low-shot: Tables 4, 5), VOC07 low-shot (Table 5), and the same protocols at
CIFAR-10 scale) and their provenance (``metafile.yml`` beside them) cannot drift apart: the same
reading rule as tests/test_metafiles.py (whose helpers this file uses), for a layout where a
family's rows inherit a main config of the folder and a collection's entries are checked against
every config of the collection.  Configs that train (linear, fine-tuning: ``_NxbM-`` in the name)
and frozen ones (a KNNEvalHook that emanplug-test reads) are checked each by their own rule; the
paper's numbers are checked against Tables 2, 4 and 5.  No model is built."""
import inspect
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
TRAINS = re.compile(r'_(\d+)xb(\d+)-')  # linear / fine-tuning configs: GPUs x batch per GPU
LS = ('For 1% (10%) labels, five (three) different sets of samples were run and the averaged numbers '
      'are shown in Table 2')

# the paper's numbers, EMAN rows of 200 epochs (arXiv 2101.08482)
TABLE2 = {  # (family, kind, % labels): (top-1, top-5)
    ('mocov2', 'linear', 1): (48.9, 75.3), ('mocov2', 'linear', 10): (60.5, 83.5),
    ('mocov2', 'linear', 100): (67.7, 88.0), ('mocov2', 'finetune', 1): (50.4, 77.8),
    ('mocov2', 'finetune', 10): (64.9, 87.1),
    ('byol', 'linear', 1): (55.1, 78.9), ('byol', 'linear', 10): (66.7, 87.3),
    ('byol', 'linear', 100): (72.2, 90.7), ('byol', 'finetune', 1): (54.6, 78.6),
    ('byol', 'finetune', 10): (68.1, 88.6)}
TABLE4 = {'mocov2': (58.0, 39.8, 24.3), 'byol': (64.9, 39.8, 20.4)}  # kNN top-1, retrieval mAP, recall
TABLE5 = {('mocov2', 'ImageNet-1k'): (29.3, 36.0, 41.6, 46.9, 50.8),
          ('byol', 'ImageNet-1k'): (27.4, 36.8, 45.6, 52.6, 57.5),
          ('mocov2', 'PASCAL VOC2007'): (50.1, 59.7, 67.2, 74.1, 77.9),
          ('byol', 'PASCAL VOC2007'): (44.6, 56.5, 65.4, 73.9, 78.8)}
SHOTS = ['k=1', 'k=2', 'k=4', 'k=8', 'k=16']
# KNNEvalHook (k, temperature, feature_dtype) of each frozen dataset; VOC07 (low-shot only) sets none
HOOK = {'in1k': (20, 1e9, 'float16'), 'cifar10': (200, 0.1, 'float16'), 'voc07': None}


def configs_of(collection):
    return [collection['Main Config']] + [m['Config'] for m in MODELS if m['In Collection'] == collection['Name']]


ALL_CONFIGS = sorted({p for c in COLLECTIONS.values() for p in configs_of(c)})
TRAINED = [p for p in ALL_CONFIGS if TRAINS.search(p)]
FROZEN = [p for p in ALL_CONFIGS if not TRAINS.search(p)]


def entries():
    """Every collection and every row: (name, entry, its config)."""
    return [(c['Name'], c, c['Main Config']) for c in COLLECTIONS.values()] + \
        [(m['Name'], m, m['Config']) for m in MODELS]


def hyperparameters(path):
    """The entries that apply to ``path``: its collection's, replaced by its row's."""
    model = next((m for m in MODELS if m['Config'] == path), None)
    collection = COLLECTIONS[model['In Collection']] if model else \
        next(c for c in COLLECTIONS.values() if c['Main Config'] == path)
    return {**collection['Hyperparameters'], **((model or {}).get('Hyperparameters') or {})}


def dataset_of(path):
    return next(d for d in ('in1k', 'cifar10', 'voc07') if f'_{d}' in Path(path).stem)


def test_the_configs_are_split_by_kind():
    assert len(ALL_CONFIGS) == 22 and len(TRAINED) == 16 and len(FROZEN) == 6, (len(TRAINED), FROZEN)
    assert all(re.search(r'_(frozen|lowshot)_', p) for p in FROZEN), FROZEN


def test_every_benchmark_config_is_listed_once():
    listed = [p for c in COLLECTIONS.values() for p in configs_of(c)]
    assert len(listed) == len(set(listed)), sorted(p for p in listed if listed.count(p) > 1)
    on_disk = {str(p.relative_to(ROOT)) for f in FOLDERS for p in (ROOT / 'configs' / f / 'benchmarks').glob('*.py')}
    assert on_disk == set(listed), dict(unlisted=sorted(on_disk - set(listed)), missing=sorted(set(listed) - on_disk))


@pytest.mark.parametrize('name', sorted(COLLECTIONS))
def test_collection_is_complete_sourced_and_matches_its_main_config(name):
    c = COLLECTIONS[name]
    for field in ('Metadata', 'Paper', 'README', 'Code', 'Main Config', 'Hyperparameters'):
        assert c.get(field), f'{name}: no {field}'
    assert c.get('Results') or str(c.get('Paper Result', '')).strip(), f'{name}: no Results, no Paper Result'
    assert (ROOT / c['README']).is_file() and (ROOT / c['Main Config']).is_file(), name
    for hp, entry in c['Hyperparameters'].items():
        assert {'Key', 'Source'} <= set(entry) and ('Value' in entry) != bool(entry.get('Absent')), \
            f'{name} / {hp}: {sorted(entry)}'
        assert isinstance(entry['Source'], str) and entry['Source'].strip(), f'{name} / {hp}'
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
    for hp, entry in (model.get('Hyperparameters') or {}).items():
        assert {'Key', 'Source'} <= set(entry) and str(entry['Source']).strip(), f'{model["Name"]} / {hp}'
    wrong = mismatches(config(model['Config']), hyperparameters(model['Config']))
    assert not wrong, '\n'.join([model['Config']] + wrong)


def check_initialisation(path, cfg):
    """The backbone starts from the student of an existing ``_bn-eman`` pretraining config of the
    family, at that config's last epoch, pretrained on the dataset of the evaluation (ImageNet for
    VOC07: the paper's frozen ImageNet representations)."""
    init = cfg['model']['backbone']['init_cfg']
    assert init['type'] == 'SelfSupPretrained' and init['model'] == 'student', init
    match = RUN.match(init['checkpoint'])
    assert match, init['checkpoint']
    run, epochs = match.groups()
    family = path.split('/')[1]
    pretraining = ROOT / 'configs' / family / f'{run}.py'
    assert pretraining.is_file() and '_bn-eman' in run and run.startswith(f'{family}_'), run
    assert config(str(pretraining.relative_to(ROOT)))['train_cfg']['max_epochs'] == int(epochs)
    pretrained_on = 'cifar10' if dataset_of(path) == 'cifar10' else 'in1k'
    assert f'_{pretrained_on}' in run, (path, run)
    return pretraining


@pytest.mark.parametrize('path', TRAINED)
def test_batch_epochs_grid_and_initialisation_are_consistent(path):
    cfg = config(path)
    entry = next((m for m in MODELS if m['Config'] == path), None)
    gpus, per_gpu = map(int, TRAINS.search(path).groups())
    assert per_gpu == cfg['train_dataloader']['batch_size']
    if entry is not None:
        assert entry['Metadata']['Batch Size'] == gpus * per_gpu
        assert entry['Metadata']['Epochs'] == cfg['train_cfg']['max_epochs']
    grid = cfg['lr_grid']  # the paper's search: the config's own value is one of the grid's
    assert len(grid['values']) == 3 and resolve(cfg, grid['key']) in grid['values'], (grid, resolve(cfg, grid['key']))
    check_initialisation(path, cfg)


@pytest.mark.parametrize('path', FROZEN)
def test_frozen_config_evaluates_by_its_hook_from_the_pretraining_run(path):
    """No training (no classifier, no train loop), one KNNEvalHook with the dataset's k,
    temperature and bank precision, the student of the family's BN/EMAN run."""
    from emanplug.evaluation import KNNEvalHook
    cfg = config(path)
    assert cfg['model'].get('head') is None, path
    assert not cfg.get('train_dataloader') and not cfg.get('train_cfg') and not cfg.get('test_evaluator'), path
    assert cfg['model']['backbone']['frozen_stages'] == 4 and cfg['model']['backbone']['norm_eval'] is True
    (hook,) = [h for h in cfg['custom_hooks'] if h['type'] == 'KNNEvalHook']
    assert len(cfg['custom_hooks']) == 1, cfg['custom_hooks']
    assert list(hook['models']) == ['student'] and hook['at_start'] is False, hook
    expected = HOOK[dataset_of(path)]
    defaults = {k: p.default for k, p in inspect.signature(KNNEvalHook.__init__).parameters.items()}
    if expected is None:  # VOC07: low-shot on multi-label targets; no kNN, the hook's float32 bank
        assert not {'k', 'temperature', 'feature_dtype'} & set(hook), hook
        assert hook['num_classes'] == 20 and defaults['feature_dtype'] == 'float32'
        assert (hook['bank']['type'], hook['bank']['split'], hook['query']['split']) == ('VOC', 'trainval', 'test')
    else:
        assert (hook['k'], hook['temperature'], hook['feature_dtype']) == expected, hook
        assert not hook.get('num_classes'), hook
    pretraining = check_initialisation(path, cfg)
    if dataset_of(path) == 'cifar10':  # k and T of the CIFAR pretraining run's kNN monitor
        (monitor,) = [h for h in config(str(pretraining.relative_to(ROOT)))['custom_hooks']
                      if h['type'] == 'KNNEvalHook']
        assert (monitor['k'], monitor['temperature']) == expected[:2], monitor
    # the metafile says so too: the hook's entries are listed (value or absent)
    keys = {e['Key'] for e in hyperparameters(path).values()}
    assert {f'custom_hooks.KNNEvalHook.{k}' for k in ('k', 'temperature', 'feature_dtype', 'models')} <= keys
    assert 'model.backbone.init_cfg.checkpoint' in keys


def table2(entry, path):
    family = path.split('/')[1]
    kind = 'finetune' if '-finetune-' in path else 'linear'
    pct = re.search(r'in1k-(\d+)pct', path)
    return family, kind, int(pct.group(1)) if pct else 100


@pytest.mark.parametrize('name,entry,path', entries(), ids=[n for n, _, _ in entries()])
def test_paper_numbers_are_the_tables(name, entry, path):
    family, dataset = path.split('/')[1], dataset_of(path)
    results = entry.get('Results')
    if dataset == 'cifar10':  # the paper has no CIFAR-10 evaluation: nothing to compare with
        assert not results, name
        assert 'no CIFAR-10' in str(entry.get('Paper Result')), name
        return
    assert results, name
    if TRAINS.search(path):  # Table 2
        (result,) = results
        family, kind, pct = table2(entry, path)
        assert result['Dataset'] == 'ImageNet-1k' and 'paper Table 2' in result['Source']
        assert result['Task'] == ('Fine-tuning' if kind == 'finetune' else 'Linear classification'), result
        assert result['Protocol'] == f'{pct} % labels'
        metrics = result['Metrics']
        assert (metrics['Top 1 Accuracy'], metrics['Top 5 Accuracy']) == TABLE2[family, kind, pct], (name, metrics)
        return
    tasks = {r['Task']: r for r in results}
    assert len(tasks) == len(results), results
    if dataset == 'in1k':  # Tables 4 and 5, ImageNet rows
        assert set(tasks) == {'kNN classification', 'Image retrieval', 'Low-shot classification'}, tasks
        assert all(r['Dataset'] == 'ImageNet-1k' for r in results)
        knn, mAP, recall = TABLE4[family]
        assert 'paper Table 4' in tasks['kNN classification']['Source']
        assert tasks['kNN classification']['Metrics'] == {'Top 1 Accuracy': knn}
        assert 'paper Table 4' in tasks['Image retrieval']['Source']
        assert list(tasks['Image retrieval']['Metrics'].items()) == [('mAP', mAP), ('Recall', recall)]
        lowshot, table = tasks['Low-shot classification'], 'ImageNet-1k'
    else:  # Table 5, VOC07 rows
        assert set(tasks) == {'Low-shot classification'}, tasks
        lowshot, table = tasks['Low-shot classification'], 'PASCAL VOC2007'
    assert lowshot['Dataset'] == table and 'paper Table 5' in lowshot['Source'], lowshot
    # emanplug-eval prints the values in this order beside ours (k = 1, 2, 4, 8, 16)
    assert list(lowshot['Metrics']) == SHOTS and tuple(lowshot['Metrics'].values()) == TABLE5[family, table], lowshot


@pytest.mark.parametrize('path', FROZEN)
def test_emanplug_eval_reads_the_frozen_numbers(path):
    """emanplug-eval (emanplug/cli/evaluate.py) finds this config for each frozen protocol and
    reads the paper's numbers of that protocol from its entry (paper_result)."""
    from emanplug.cli.evaluate import paper_result, protocol_config
    family, dataset = path.split('/')[1], dataset_of(path)
    protocols = {'in1k': ('knn', 'retrieval', 'lowshot'), 'voc07': ('lowshot-voc07',),
                 'cifar10': ('knn', 'retrieval', 'lowshot')}[dataset]
    for protocol in protocols:
        found_config = protocol_config(family, protocol, 'cifar10' if dataset == 'cifar10' else 'in1k')
        assert Path(found_config).name == Path(path).name, (protocol, found_config)
        found = paper_result(found_config, protocol)
        if dataset == 'cifar10':
            assert found is None, (path, protocol, found)
            continue
        values = list(found['Metrics'].values())
        if protocol == 'knn':
            assert values == [TABLE4[family][0]]
        elif protocol == 'retrieval':
            assert values == list(TABLE4[family][1:])
        else:
            table = 'PASCAL VOC2007' if dataset == 'voc07' else 'ImageNet-1k'
            assert tuple(values) == TABLE5[family, table], (path, protocol, values)


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_label_sets_are_the_papers(path):
    """The paper's five 1 % and three 10 % label sets (Sec. 5.2), in the config and the metafile;
    none where every label is used (or nothing is trained)."""
    cfg = config(path)
    pct = re.search(r'-(\d+)pct\.py$', path)
    expected = {'1': 5, '10': 3}[pct.group(1)] if pct else None
    assert cfg.get('label_sets') == expected, (path, cfg.get('label_sets'))
    listed = [e for e in hyperparameters(path).values() if e['Key'] == 'label_sets']
    if expected is None:
        assert not listed, path
    else:
        (entry,) = listed
        assert entry['Value'] == expected and LS in entry['Source'], (path, entry)
