"""Where the student's and the teacher's weights sit in an emanplug checkpoint (plain Python).

Every emanplug model (MoCo, BYOL, FixMatch) holds its student as named parts
(``backbone``, ``neck`` and, for FixMatch, ``head``) and its teacher as an
:class:`~emanplug.core.teacher.EMATeacher` whose module has the same named parts, so a
model's state dict reads::

    backbone.conv1.weight                    # the student's backbone
    teacher.module.backbone.conv1.weight     # the teacher's backbone
    teacher.module.neck.mlp.0.weight         # the teacher's neck

Checkpoints written before the parts were named (emanplug <= 0.1.0) hold the teacher's
parts by position (``teacher.module.0.`` = backbone, ``.1.`` = neck, ``.2.`` = head).
They keep loading: the models register :func:`name_positional_teacher_keys` on their
teacher, which renames such keys as it loads them (``load_from``, ``--resume``, ``tools/test.py``),
and :func:`part_state_dict` (``tools/export_backbone.py``) reads both layouts.  A config
that takes the teacher's backbone of an *old* checkpoint with ``init_cfg=dict(type=
'Pretrained', prefix=...)`` keeps its old prefix ``teacher.module.0.``.
"""
import re
from typing import Dict, Mapping, MutableMapping, Optional, Sequence, Tuple

from .errors import ConfigError

#: The parts of a student / teacher, in the order the old positional keys used.
PARTS: Tuple[str, ...] = ('backbone', 'neck', 'head')
MODELS: Tuple[str, ...] = ('student', 'teacher')
TEACHER_PREFIX = 'teacher.module.'

_OLD_TEACHER_KEY = re.compile(r'^((?:.*\.)?teacher\.module\.)[0-2]\.')


def part_prefix(model: str = 'student', part: str = 'backbone') -> str:
    """The state-dict prefix of ``part`` of the student or the teacher.

    Example:
        >>> part_prefix('teacher', 'backbone')
        'teacher.module.backbone.'
        >>> part_prefix('student', 'neck')
        'neck.'
    """
    if model not in MODELS:
        raise ConfigError(f'model={model!r} is not allowed; allowed: {", ".join(MODELS)}')
    if part not in PARTS:
        raise ConfigError(f'part={part!r} is not allowed; allowed: {", ".join(PARTS)}')
    return (TEACHER_PREFIX if model == 'teacher' else '') + part + '.'


def name_positional_keys(state_dict: MutableMapping[str, object], prefix: str,
                         names: Sequence[str]) -> None:
    """In place: rename ``{prefix}{i}.rest`` to ``{prefix}{names[i]}.rest``.

    Example:
        >>> sd = {'teacher.module.1.fc.weight': 0}
        >>> name_positional_keys(sd, 'teacher.module.', ['backbone', 'neck']); sd
        {'teacher.module.neck.fc.weight': 0}
    """
    for key in [k for k in state_dict if k.startswith(prefix)]:
        index, dot, rest = key[len(prefix):].partition('.')
        if dot and index.isdigit() and int(index) < len(names):
            state_dict[prefix + names[int(index)] + '.' + rest] = state_dict.pop(key)


def name_positional_teacher_keys(teacher: object, state_dict: MutableMapping[str, object],
                                 prefix: str, *args: object) -> None:
    """A load-state-dict pre-hook of an EMA teacher whose module has named parts (``backbone``,
    ``neck``, ...): it also reads the keys of checkpoints written when they were positional
    (``{prefix}module.0.`` = the first part).  A teacher of positional parts loads unchanged.

    Example:
        >>> teacher.register_load_state_dict_pre_hook(name_positional_teacher_keys)  # doctest: +SKIP
    """
    names = list(teacher.module._modules)
    if names and not any(n.isdigit() for n in names):
        name_positional_keys(state_dict, prefix + 'module.', names)


def migrate_state_dict(state_dict: Mapping[str, object]) -> Dict[str, object]:
    """A copy of an emanplug model's state dict with the positional teacher keys of old
    checkpoints named: ``teacher.module.0.x`` -> ``teacher.module.backbone.x`` (``1`` ->
    ``neck``, ``2`` -> ``head``), also under an outer prefix (e.g. ``module.`` of DDP).

    Example:
        >>> migrate_state_dict({'teacher.module.0.conv1.weight': 1, 'backbone.conv1.weight': 2})
        {'backbone.conv1.weight': 2, 'teacher.module.backbone.conv1.weight': 1}
    """
    out = dict(state_dict)
    for prefix in sorted({m.group(1) for m in map(_OLD_TEACHER_KEY.match, out) if m}):
        name_positional_keys(out, prefix, PARTS)
    return out


def part_state_dict(state_dict: Mapping[str, object], model: str = 'student',
                    part: str = 'backbone') -> Dict[str, object]:
    """The entries of ``part`` of the student or the teacher, prefix removed (old
    checkpoints are migrated first).

    Raises:
        ConfigError: the state dict holds no such part (one line naming the prefix).

    Example:
        >>> part_state_dict({'teacher.module.0.w': 1, 'backbone.w': 2}, 'teacher')
        {'w': 1}
    """
    prefix = part_prefix(model, part)
    state_dict = migrate_state_dict(state_dict)
    out = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not out:
        raise ConfigError(f'the checkpoint has no {model} {part} (no keys starting with '
                          f'{prefix!r}); allowed: checkpoints of emanplug MoCo, BYOL, FixMatch'
                          + (' with a teacher' if model == 'teacher' else ''))
    return out


def _shape(value: object) -> object:
    shape = getattr(value, 'shape', None)
    return tuple(shape) if shape is not None else None


def state_dict_mismatch(expected: Mapping[str, object], found: Mapping[str, object],
                        examples: int = 2) -> Optional[str]:
    """What keeps the state dict ``found`` (a checkpoint's) from loading into a model whose
    own state dict is ``expected``: keys missing, keys the model does not have, and shapes
    that differ, each with a few examples; None when it fits.  Old layouts are migrated
    and DDP's ``module.`` prefix is removed first, as loading does.

    Example:
        >>> state_dict_mismatch({'backbone.w': 1, 'head.b': 2}, {'module.backbone.w': 1, 'neck.x': 3})
        '1 missing (head.b), 1 unexpected (neck.x)'
    """
    found = migrate_state_dict({re.sub(r'^module\.', '', k): v for k, v in found.items()})
    shapes = [f'{k} {_shape(found[k])} vs {_shape(v)}' for k, v in expected.items()
              if k in found and _shape(found[k]) != _shape(v)]
    problems = [([k for k in expected if k not in found], 'missing'),
                ([k for k in found if k not in expected], 'unexpected'),
                (shapes, 'of another shape (checkpoint vs model)')]
    text = ', '.join(f'{len(keys)} {what} ({", ".join(keys[:examples])}{", ..." if len(keys) > examples else ""})'
                     for keys, what in problems if keys)
    return text or None
