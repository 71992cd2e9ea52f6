"""Which test trains which shipped config: the one list that the training tests read (each
trains exactly the configs of its group, and asserts that each ran its iterations) and that
tests/test_config_ledger.py checks against every ``.py`` under ``configs/`` (less ``_base_/``).

A group is ``(test, suite, patterns)``: ``test`` the pytest node that trains the group's
configs for at least 2 iterations each (a frozen-backbone benchmark, which trains nothing, is
evaluated by emanplug-test instead), ``suite`` where it runs (``default``: the default
suite, ``smoke``: only with EMANPLUG_SMOKE=1, in .ci/run's smoke command), ``patterns`` globs
relative to ``configs/``.  A new config is covered by adding it to a group whose test trains
it (a test that takes its list from here picks it up), or by a new group with its test.
"""
import glob
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / 'configs'


class Group(NamedTuple):
    test: str
    suite: str
    patterns: Tuple[str, ...]


GROUPS: Dict[str, Group] = {
    # the (method x scheme) rows of the 200-epoch CIFAR-10 families, 2 gloo processes
    'cells-mocov2': Group('tests/test_cells.py::test_every_scheme_cell_trains_in_two_processes[cells-mocov2]',
                          'default', ('mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10_*.py',)),
    'cells-byol': Group('tests/test_cells.py::test_every_scheme_cell_trains_in_two_processes[cells-byol]',
                        'default', ('byol/byol_resnet18_1xb256-coslr-200e_cifar10_*.py',)),
    'cells-fixmatch': Group('tests/test_fixmatch.py::test_every_fixmatch_mode_trains_in_two_processes',
                            'default', ('fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000_*.py',)),
    # mmpretrain's own models and tools
    'mmpretrain-from': Group('tests/test_train_tools.py::test_mmpretrain_configs_train_with_eman_after_the_recipe_lines',
                             'default', ('mmpretrain_recipe/*_from-mmpretrain_*.py',)),
    'mmpretrain-tools': Group('tests/test_mmpretrain_tools.py::test_mmpretrains_dist_train_trains_a_user_recipe',
                              'smoke', ('mmpretrain_recipe/*_mmpretrain-model_*.py',)),
    # every ImageNet config of a family on a fake ImageNet (tests/imagenet_smoke_driver.py)
    'imagenet-mocov2': Group('tests/test_imagenet_smoke.py::test_every_imagenet_config_trains_two_iterations[imagenet-mocov2]',
                             'smoke', ('mocov2/*in1k*.py',)),
    'imagenet-byol': Group('tests/test_imagenet_smoke.py::test_every_imagenet_config_trains_two_iterations[imagenet-byol]',
                           'smoke', ('byol/*in1k*.py',)),
    'imagenet-fixmatch': Group('tests/test_imagenet_smoke.py::test_every_imagenet_config_trains_two_iterations[imagenet-fixmatch]',
                               'smoke', ('fixmatch/*in1k*.py',)),
    # the evaluation configs on the fake ImageNet: linear, fine-tuning from the families' smoke runs;
    # the frozen ones (kNN: *_frozen_in1k; VOC07 low-shot on a generated VOC folder) evaluated by
    # emanplug-test from an official-layout ResNet-18
    'imagenet-mocov2-benchmarks': Group(
        'tests/test_imagenet_smoke.py::test_every_imagenet_config_trains_two_iterations[imagenet-mocov2-benchmarks]',
        'smoke', ('mocov2/benchmarks/*in1k*.py', 'mocov2/benchmarks/*_voc07.py')),
    'imagenet-byol-benchmarks': Group(
        'tests/test_imagenet_smoke.py::test_every_imagenet_config_trains_two_iterations[imagenet-byol-benchmarks]',
        'smoke', ('byol/benchmarks/*in1k*.py', 'byol/benchmarks/*_voc07.py')),
    # the rest of the CIFAR-10 / digits configs on generated data (tests/cifar_smoke_driver.py)
    'cifar-mocov2': Group('tests/test_cifar_smoke.py::test_every_small_config_trains_two_iterations[cifar-mocov2]',
                          'smoke', ('mocov2/*_2xb32-coslr-16e*_cifar10-10k*.py',
                                    'mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py')),
    'cifar-byol': Group('tests/test_cifar_smoke.py::test_every_small_config_trains_two_iterations[cifar-byol]',
                        'smoke', ('byol/byol_resnet18_2xb32-coslr-16e*_cifar10-10k*.py',
                                  'byol/byol_resnet18_1xb256-coslr-200e_cifar10.py')),
    'cifar-fixmatch': Group('tests/test_cifar_smoke.py::test_every_small_config_trains_two_iterations[cifar-fixmatch]',
                            'smoke', ('fixmatch/fixmatch_resnet18*_1xb32-*_cifar10-4000*.py',
                                      'fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-250_*.py',
                                      'fixmatch/fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py')),
    'cifar-evaluation': Group('tests/test_cifar_smoke.py::test_every_small_config_trains_two_iterations[cifar-evaluation]',
                              'smoke', ('benchmarks/*_cifar10*.py', 'quickstart/*_digits*.py')),
    # the MoCo / BYOL CIFAR-10 evaluation configs: linear (100 / 10 / 1 %) from the families' CPU-budget
    # BN/EMAN smoke runs; the frozen ones evaluated (kNN) by emanplug-test from those runs
    'cifar-benchmarks': Group('tests/test_cifar_smoke.py::test_every_small_config_trains_two_iterations[cifar-benchmarks]',
                              'smoke', ('mocov2/benchmarks/*_cifar10*.py', 'byol/benchmarks/*_cifar10*.py')),
}


def shipped() -> List[Path]:
    """Every config under ``configs/``, less ``_base_/``."""
    return sorted(p for p in CONFIGS.rglob('*.py') if '_base_' not in p.relative_to(CONFIGS).parts)


def configs(group: str) -> List[Path]:
    """The configs of ``group``, sorted; a pattern that matches nothing is an error."""
    found = set()
    for pattern in GROUPS[group].patterns:
        matched = glob.glob(str(CONFIGS / pattern))
        if not matched:
            raise ValueError(f'config ledger: group {group!r}: {pattern!r} matches no config')
        found.update(Path(p) for p in matched)
    return sorted(found)


def names(group: str) -> List[str]:
    """The config names (file stems) of ``group``."""
    return [p.stem for p in configs(group)]


def coverage(paths: List[Path]) -> Dict[Path, List[str]]:
    """``{config: [groups that train it]}`` for ``paths`` (an empty list: not trained by any test)."""
    members = {name: set(configs(name)) for name in GROUPS}
    return {p: [name for name, found in members.items() if p in found] for p in paths}
