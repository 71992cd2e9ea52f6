"""The ImageNet recipes and their provenance cannot drift apart.

``configs/{mocov2,byol,fixmatch}/metafile.yml`` follow mmpretrain's shape (Collections + Models
with Name, Config, Metadata, Results) and add, per collection (one config family) and per model
(one row), ``Hyperparameters``: ``name: {Key, Value | Absent, Source[, Note]}``, where ``Key`` is
a path into the resolved config (a row's entry replaces its collection's entry of the same name).
Path segments: a dict key, a list index, the ``type`` of the one dict of a list that has it
(``param_scheduler.LinearLR.end``), or ``*field`` (that field of every item of a list:
``...transforms.1.*type``).  An entry with ``Value`` needs its key to resolve (a config value of
null is a value; a path that does not resolve is an error naming the key, so a typo fails);
an entry with ``Absent: true`` says that the config does not set the key (mmpretrain's /
PyTorch's default applies), and its key must name an argument that the type of its parent
takes, or a registered type where the parent is a list, so that a typo fails there too.
Every check reads configs only, except the LARS selection and the projector initialisation,
which build the modules they are about.
"""
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from mmengine.config import Config

import emanplug

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ('mocov2', 'byol', 'fixmatch')
METAFILES = [ROOT / 'configs' / f / 'metafile.yml' for f in FOLDERS]


class _Missing:
    def __repr__(self):
        return '<absent>'


MISSING = _Missing()  # what resolve() returns where a path does not resolve


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
    """The value at ``key`` (tuples as lists), or MISSING where the path does not resolve."""
    node = cfg
    for segment in key.split('.'):
        if isinstance(node, (list, tuple)):
            if segment.startswith('*'):
                field = segment[1:]
                if not all(isinstance(item, dict) and field in item for item in node):
                    return MISSING
                node = [item[field] for item in node]
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
            return MISSING
    return plain(node)


#: keys that the builders read from a part's config besides the arguments of its type:
#: ``build_optim_wrapper`` (mmengine/optim/optimizer/builder.py) pops ``constructor`` and
#: ``paramwise_cfg``; ``build_scheduler_from_cfg`` (mmengine/registry/build_functions.py) pops
#: ``convert_to_iter_based``.
BUILDER_KEYS = {'OPTIM_WRAPPERS': {'constructor', 'paramwise_cfg'},
                'PARAM_SCHEDULERS': {'convert_to_iter_based'}}


def registered_types(type_name: str) -> dict:
    """``{registry name: class}`` of every mmpretrain-scope registry that knows ``type_name``."""
    from mmengine.registry import Registry
    import mmpretrain.registry as registries
    emanplug.register_all_modules()
    found = {}
    for name, registry in vars(registries).items():
        if isinstance(registry, Registry) and name.isupper():
            cls = registry.get(type_name)
            if cls is not None:
                found[name] = cls
    return found


def accepted_arguments(registry_name: str, cls) -> set:
    """The keyword arguments ``cls`` takes (those of every ``__init__`` along its MRO), plus the
    keys its builder reads."""
    import inspect
    names = set(BUILDER_KEYS.get(registry_name, ()))
    for klass in getattr(cls, '__mro__', (cls,)):
        init = vars(klass).get('__init__') if isinstance(klass, type) else klass
        if init is None or klass is object:
            continue
        names |= {p.name for p in inspect.signature(init).parameters.values()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - {'self'}


def absent_key_problem(cfg, key: str):
    """Why ``key`` cannot be an absent argument (None when it can): its parent must resolve,
    and the last segment must be an argument of the parent's type (a registered type where the
    parent is a list)."""
    *head, last = key.split('.')
    parent = resolve(cfg, '.'.join(head)) if head else cfg
    if parent is MISSING:
        return f'{key}: its parent {".".join(head)} does not resolve either'
    if isinstance(parent, list):
        return None if registered_types(last) else f'{key}: {last} is no registered type'
    if not isinstance(parent, dict) or not isinstance(parent.get('type'), str):
        return f'{key}: its parent has no type to check {last!r} against'
    types = registered_types(parent['type'])
    if not types:
        return f'{key}: the parent type {parent["type"]} is not registered'
    if not any(last in accepted_arguments(r, cls) for r, cls in types.items()):
        return f'{key}: {parent["type"]} takes no argument {last!r}'
    return None


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
        key = entry['Key']
        actual = resolve(cfg, key)
        if entry.get('Absent'):
            if 'Value' in entry:
                wrong.append(f'{name} ({key}): an entry has either Value or Absent, not both')
            elif actual is not MISSING:
                wrong.append(f'{name} ({key}): the metafile says absent, the config sets {actual!r}')
            elif absent_key_problem(cfg, key):
                wrong.append(f'{name} ({absent_key_problem(cfg, key)})')
        elif 'Value' not in entry:
            wrong.append(f'{name} ({key}): no Value and no Absent')
        elif actual is MISSING:
            wrong.append(f'{name} ({key}): the key does not resolve in the config '
                         f'(an unset key is written Absent: true, not Value: null)')
        elif not same(actual, entry['Value']):
            wrong.append(f'{name} ({key}): config {actual!r}, metafile {entry["Value"]!r}')
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
        assert {'Key', 'Source'} <= set(entry) and ('Value' in entry) != bool(entry.get('Absent')), \
            f'{name} / {hp}: {sorted(entry)}'
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


FIXMATCH_CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs' / 'fixmatch').glob('*.py'))


@pytest.mark.parametrize('path', FIXMATCH_CONFIGS, ids=lambda p: Path(p).stem)
def test_fixmatch_backbone_keeps_the_last_bn_of_each_block_at_one(path):
    """Every FixMatch config, ImageNet and CIFAR-10, from scratch or not: zero_init_residual
    False, as the official ResNet (mmpretrain's default True would start every block's last BN
    weight at 0).  The key must resolve: an unset key would mean mmpretrain's True."""
    assert resolve(config(path), 'model.backbone.zero_init_residual') is False, path


def build_model(relpath: str):
    from mmpretrain.registry import MODELS
    emanplug.register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(config(relpath)['model'])
    model.init_weights()
    return model


def test_momentum2_teacher_projector_and_predictor_have_biases_and_pytorchs_default_init():
    """Momentum^2 Teacher's MLPs (resnet_mbn.py): nn.Linear with bias and its own init,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias (std bound / sqrt(3)); EMAN-BYOL's
    are bias-free, Kaiming-normal fan_out (projector) and normal(0.01) (predictor)."""
    model = build_model('configs/byol/m2teacher_resnet50_8xb32-coslr-100e_in1k.py')
    linears = {'neck.fc0': (2048, 4096), 'neck.fc1': (4096, 256),
               'head.predictor.fc0': (256, 4096), 'head.predictor.fc1': (4096, 256)}
    modules = dict(model.named_modules())
    for name, (fan_in, fan_out) in linears.items():
        fc = modules[name]
        assert (fc.in_features, fc.out_features) == (fan_in, fan_out), name
        assert fc.bias is not None, f'{name} has no bias'
        bound = 1 / fan_in ** 0.5
        for tensor in (fc.weight, fc.bias):
            t = tensor.detach().double()
            assert t.abs().max() <= bound, f'{name}: beyond U(-{bound:.4g}, {bound:.4g})'
        std = fc.weight.detach().double().std().item()
        assert abs(std / (bound / 3 ** 0.5) - 1) < 0.05, f'{name}: weight std {std:.4g}'
    for name in ('neck.bn0', 'head.predictor.bn0'):
        bn = modules[name]
        assert torch.equal(bn.weight, torch.ones_like(bn.weight)) and not bn.bias.any(), name


def test_byol_lars_exclusion_selects_what_the_official_filter_selects():
    """The parameters without weight decay and LARS adaptation, for ResNet-50 + projector +
    predictor, are the official main_byol.py collect_params selection: the name filter ('bn',
    'downsample.1' or 'bias' in the name) applied to the official modules, whose projector /
    predictor are nn.Sequential(Linear, BN, ReLU, Linear) without Linear biases.  So: every BN
    weight and bias of the backbone, and the BN biases (not the BN weights) of the MLPs."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    relpath = 'configs/byol/byol_resnet50_8xb64-coslr-200e_in1k.py'
    model = build_model(relpath)
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # the scope a Runner sets: LARS is mmpretrain's
        wrapper = build_optim_wrapper(model, config(relpath)['optim_wrapper'])
    names = {id(p): n for n, p in model.named_parameters()}
    excluded, kept = set(), set()
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            if group.get('lars_exclude', False):
                assert group['weight_decay'] == 0, names[id(p)]
                excluded.add(names[id(p)])
            else:
                assert group['weight_decay'] == pytest.approx(1e-6), names[id(p)]
                kept.add(names[id(p)])
    backbone_bns = ['backbone.bn1'] + [
        f'backbone.layer{stage}.{block}.{bn}'
        for stage, blocks in enumerate((3, 4, 6, 3), start=1) for block in range(blocks)
        for bn in ('bn1', 'bn2', 'bn3') + (('downsample.1',) if block == 0 else ())]
    expected = {f'{bn}.{p}' for bn in backbone_bns for p in ('weight', 'bias')} \
        | {'neck.bn0.bias', 'head.predictor.bn0.bias'}
    assert len(expected) == 108
    assert excluded == expected, dict(extra=sorted(excluded - expected), missing=sorted(expected - excluded))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert excluded | kept == trainable and not excluded & kept
    assert {'neck.bn0.weight', 'head.predictor.bn0.weight', 'neck.fc0.weight',
            'head.predictor.fc1.weight', 'backbone.conv1.weight'} <= kept

    # the same selection, from the official rule on the official names of these modules
    def official_name(name):
        for ours, theirs in (('head.predictor.', 'predictor.'), ('neck.', 'online_net.neck.'),
                             ('backbone.', 'online_net.backbone.')):
            if name.startswith(ours):
                name = theirs + name[len(ours):]
                break
        for ours, theirs in (('fc0', 'mlp.0'), ('bn0', 'mlp.1'), ('fc1', 'mlp.3')):
            name = name.replace(f'neck.{ours}.', f'neck.{theirs}.').replace(f'predictor.{ours}.', f'predictor.{theirs}.')
        return name
    official = {n for n in trainable
                if any(s in official_name(n) for s in ('bn', 'downsample.1', 'bias'))}
    assert official == excluded
