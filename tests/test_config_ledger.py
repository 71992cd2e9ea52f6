"""Every shipped config is trained for at least 2 iterations by some test (tests/config_ledger.py):
in the default suite, or in the smoke run that .ci/run starts (EMANPLUG_SMOKE=1).  The ledger's
groups are the lists the training tests themselves read, so it claims no coverage that a test
does not give: each group is named by its test, which takes its configs from the ledger."""
import ast
import re
from pathlib import Path

import pytest

import config_ledger as ledger

ROOT = Path(__file__).resolve().parents[1]


def test_every_shipped_config_is_trained_by_a_test():
    configs = ledger.shipped()
    assert len(configs) > 200
    uncovered = [str(p.relative_to(ROOT)) for p, groups in ledger.coverage(configs).items() if not groups]
    assert not uncovered, ('configs that no test trains (add each to a group of tests/config_ledger.py '
                           'whose test trains it):\n  ' + '\n  '.join(uncovered))


def test_a_config_outside_every_group_is_reported():
    made_up = ledger.CONFIGS / 'mocov2' / 'mocov2_resnet18_2xb32-coslr-17e_cifar10-10k_bn-eman.py'
    shipped = ledger.CONFIGS / 'mocov2' / 'mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman.py'
    assert ledger.coverage([made_up, shipped]) == {made_up: [], shipped: ['cifar-mocov2']}


def smoke_files() -> set:
    """The test files of .ci/run's EMANPLUG_SMOKE=1 command."""
    lines = [line for line in (ROOT / '.ci' / 'run').read_text().splitlines()
             if line.startswith('EMANPLUG_SMOKE=1 ')]
    assert len(lines) == 1, lines
    return set(re.findall(r'tests/test_\w+\.py', lines[0]))


@pytest.mark.parametrize('group', list(ledger.GROUPS))
def test_each_group_is_trained_by_the_test_that_names_it(group):
    test, suite, _ = ledger.GROUPS[group]
    assert ledger.configs(group), group
    match = re.fullmatch(r'(tests/test_\w+\.py)::(test_\w+)(?:\[([\w-]+)\])?', test)
    assert match, test
    path, function, param = match.groups()
    source = (ROOT / path).read_text()
    # the test reads its configs from the ledger, by this group's name
    assert 'config_ledger' in source and f"'{group}'" in source, (group, path)
    assert param in (None, group), (group, test)  # a parametrized test: one case per group
    tree = ast.parse(source)
    found = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == function]
    assert len(found) == 1, (group, test)
    marks = {ast.unparse(d) for d in found[0].decorator_list} | \
        {ast.unparse(v) for a in tree.body if isinstance(a, ast.Assign)
         for t in a.targets if getattr(t, 'id', '') == 'pytestmark' for v in [a.value]}
    smoke = any('pytest.mark.smoke' in m for m in marks)
    assert suite in ('default', 'smoke'), (group, suite)
    assert smoke == (suite == 'smoke'), (group, suite, marks)
    if suite == 'smoke':  # the smoke tests run in .ci/run only
        assert path in smoke_files(), (group, path)
