"""The ImageNet recipes and their provenance cannot drift apart.

``configs/{mocov2,byol,fixmatch}/metafile.yml`` follow mmpretrain's shape (Collections + Models
with Name, Config, Metadata, Results) and add, per collection (one config family) and per model
(one row), ``Hyperparameters``: ``name: {Key, Value, Source[, Note]}``, where ``Key`` is a path
into the resolved config (a row's entry replaces its collection's entry of the same name).  Path segments: a dict key, a list index, the ``type`` of the one dict of
a list that has it (``param_scheduler.LinearLR.end``), or ``*field`` (that field of every item of
a list: ``...transforms.1.*type``).  A path that does not resolve reads as null (mmpretrain's /
PyTorch's default applies).  No model is built: every check reads configs only.
"""
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from mmengine.config import Config

import emanplug

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ('mocov2', 'byol', 'fixmatch')
METAFILES = [ROOT / 'configs' / f / 'metafile.yml' for f in FOLDERS]
MISSING = object()


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


META = {p.parent.name: load(p) for p in METAFILES if p.exists()}
COLLECTIONS = {c['Name']: c for meta in META.values() for c in meta['Collections']}
MODELS = [m for meta in META.values() for m in meta['Models']]


@lru_cache(maxsize=None)
def config(relpath: str) -> dict:
    emanplug.register_all_modules()
    return Config.fromfile(str(ROOT / relpath)).to_dict()


def plain(value):
    """Tuples as lists, recursively, so that a config compares with YAML."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def resolve(cfg, key: str):
    node = cfg
    for segment in key.split('.'):
        if isinstance(node, (list, tuple)):
            if segment.startswith('*'):
                node = [item.get(segment[1:]) if isinstance(item, dict) else None for item in node]
            elif segment.isdigit():
                node = node[int(segment)] if int(segment) < len(node) else MISSING
            else:
                found = [item for item in node if isinstance(item, dict) and item.get('type') == segment]
                assert len(found) <= 1, f'{key}: {len(found)} entries of type {segment}'
                node = found[0] if found else MISSING
        elif isinstance(node, dict):
            node = node.get(segment, MISSING)
        else:
            node = MISSING
        if node is MISSING:
            return None
    return plain(node)


def same(actual, expected) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and isinstance(expected, (int, float)) \
            and not isinstance(actual, bool) and np.isclose(actual, expected, rtol=1e-9, atol=0)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    return type(actual) is type(expected) and actual == expected


def mismatches(cfg: dict, hyperparameters: dict) -> list:
    wrong = []
    for name, entry in (hyperparameters or {}).items():
        actual = resolve(cfg, entry['Key'])
        if not same(actual, entry['Value']):
            wrong.append(f'{name} ({entry["Key"]}): config {actual!r}, metafile {entry["Value"]!r}')
    return wrong


def test_every_folder_has_readme_and_metafile():
    for folder in FOLDERS:
        assert (ROOT / 'configs' / folder / 'README.md').is_file(), folder
        assert folder in META, f'configs/{folder}/metafile.yml is missing'


@pytest.mark.parametrize('name', sorted(COLLECTIONS))
def test_collection_is_complete_and_sourced(name):
    c = COLLECTIONS[name]
    for field in ('Metadata', 'Paper', 'README', 'Code', 'Main Config', 'Hyperparameters'):
        assert c.get(field), f'{name}: no {field}'
    assert (ROOT / c['README']).is_file() and (ROOT / c['Main Config']).is_file(), name
    for hp, entry in c['Hyperparameters'].items():
        assert {'Key', 'Value', 'Source'} <= set(entry), f'{name} / {hp}: {sorted(entry)}'
        assert isinstance(entry['Source'], str) and entry['Source'].strip(), f'{name} / {hp}'


@pytest.mark.parametrize('name', sorted(COLLECTIONS))
def test_main_config_matches_its_collection(name):
    c = COLLECTIONS[name]
    assert not mismatches(config(c['Main Config']), c['Hyperparameters']), \
        '\n'.join([c['Main Config']] + mismatches(config(c['Main Config']), c['Hyperparameters']))


def test_every_imagenet_config_is_listed_once():
    listed = [m['Config'] for m in MODELS] + [c['Main Config'] for c in COLLECTIONS.values()]
    assert len(listed) == len(set(listed)), sorted(p for p in listed if listed.count(p) > 1)
    on_disk = {str(p.relative_to(ROOT)) for f in FOLDERS
               for p in (ROOT / 'configs' / f).glob('*in1k*.py')}
    assert on_disk == set(listed), dict(unlisted=sorted(on_disk - set(listed)),
                                        missing=sorted(set(listed) - on_disk))


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_model_entry_matches_its_config(model):
    path = ROOT / model['Config']
    assert path.is_file(), model['Config']
    assert model['Name'] == path.stem
    collection = COLLECTIONS[model['In Collection']]
    assert path.stem.startswith(Path(collection['Main Config']).stem + '_'), \
        f'{path.name} is not a row of {collection["Main Config"]}'
    cfg = config(model['Config'])
    # a row's own entry (its scheme, its initialisation, its lr) replaces the collection's of that name
    wrong = mismatches(cfg, {**collection['Hyperparameters'], **(model.get('Hyperparameters') or {})})
    assert not wrong, '\n'.join([model['Config']] + wrong)
    meta = model['Metadata']
    assert meta['Epochs'] == cfg['train_cfg']['max_epochs']
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', path.name).groups())
    assert per_gpu == cfg['train_dataloader']['batch_size']
    assert meta['Batch Size'] == gpus * per_gpu
    assert meta['Training Data'] == 'ImageNet-1k'


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_model_has_the_papers_number_or_says_why_not(model):
    results = model.get('Results')
    if results is None:
        assert str(model.get('Paper Result', '')).strip(), f'{model["Name"]}: no Results, no Paper Result'
        return
    for result in results:
        assert result['Task'] and result['Dataset'] == 'ImageNet-1k' and result['Protocol'], result
        top1 = result['Metrics']['Top 1 Accuracy']
        assert isinstance(top1, float) and 0 < top1 < 100, result


def test_fixmatch_strong_view_is_randaugment_2_10_without_cutout():
    """The strong view of every FixMatch ImageNet row builds and changes images; no Cutout."""
    from mmpretrain.registry import TRANSFORMS
    emanplug.register_all_modules()
    cfg = config('configs/fixmatch/fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct.py')
    strong = resolve(cfg, 'train_dataloader.dataset.unlabeled_pipeline.MultiView.transforms.1')
    assert [t['type'] for t in strong] == ['RandomResizedCrop', 'RandomFlip', 'RandomMagnitudeRandAugment']
    augment = TRANSFORMS.build(strong[-1])
    assert (augment.num_ops, augment.magnitude) == (2, 10)
    assert [augment.value('Rotate', v) for v in (1, 9)] == [3, 27]
    assert [augment.value('Posterize', v) for v in (1, 5, 9)] == [4, 6, 7]
    state = np.random.get_state()
    try:
        np.random.seed(0)
        image = np.random.randint(0, 256, (64, 48, 3), dtype=np.uint8)
        outs = [augment(dict(img=image.copy()))['img'] for _ in range(20)]
    finally:
        np.random.set_state(state)
    assert all(o.shape == image.shape and o.dtype == np.uint8 for o in outs)
    assert sum(not np.array_equal(o, image) for o in outs) >= 15
