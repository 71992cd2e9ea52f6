"""The fixes for the known breakages of the pinned stack (method notes, section 5)."""
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import emanplug  # noqa: F401  (applies the fixes)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_negative_hue_shift_under_numpy2(backend):
    import mmcv
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 255  # BGR
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # numpy 2 warns / raises on the original uint8 cast
        blue = mmcv.adjust_hue(red, -1 / 3, backend=backend)
        green = mmcv.adjust_hue(red, 1 / 3, backend=backend)
    assert blue.dtype == np.uint8 and blue[0, 0].argmax() == 0 and blue[0, 0, 2] < 30
    assert green[0, 0].argmax() == 1 and green[0, 0, 2] < 30
    gray = np.full((4, 4, 3), 100, np.uint8)
    assert np.array_equal(mmcv.adjust_hue(gray, -0.3, backend=backend), gray)


def test_mmpretrain_color_jitter_with_hue_runs():
    from mmpretrain.datasets.transforms import ColorJitter
    jitter = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.5, backend='pillow')
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.filterwarnings('error', category=RuntimeWarning)
        for _ in range(20):
            out = jitter(dict(img=rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)))
    assert out['img'].shape == (8, 8, 3)


CONFIG = "_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py'\n"


def run_without_pkg_resources(tmp_path, import_emanplug):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG)
    code = textwrap.dedent(f"""
        import sys
        sys.modules['pkg_resources'] = None  # as with setuptools >= 81
        {'import emanplug; emanplug.register_all_modules()' if import_emanplug else ''}
        from mmengine.config import Config
        cfg = Config.fromfile({str(cfg)!r})
        print(cfg.train_dataloader.batch_size)
    """)
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)


def test_mmpretrain_base_configs_resolve_without_pkg_resources(tmp_path):
    broken = run_without_pkg_resources(tmp_path, import_emanplug=False)
    assert broken.returncode != 0 and 'pkg_resources' in broken.stderr
    fixed = run_without_pkg_resources(tmp_path, import_emanplug=True)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.strip().endswith('32')


def test_collate_scope_from_inherited_configs_is_removed(tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(CONFIG)
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.train_dataloader.collate_fn.get('_scope_') == 'mmpretrain'
    loader_cfg = dict(dataset=list(range(4)), batch_size=2, num_workers=0,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      collate_fn=cfg.train_dataloader.collate_fn.to_dict())
    unpatched = Runner.build_dataloader.__wrapped__  # mmengine's own
    with pytest.raises(TypeError, match='_scope_'):
        next(iter(unpatched(dict(loader_cfg, collate_fn=dict(loader_cfg['collate_fn'])))))
    assert next(iter(Runner.build_dataloader(loader_cfg))).tolist() == [0, 1]
    assert loader_cfg['collate_fn'].get('_scope_') == 'mmpretrain'  # the caller's config unchanged


def test_random_crop_padding_follows_padding_mode():
    """mmpretrain's RandomCrop padded with zeros whatever padding_mode said."""
    from mmpretrain.datasets.transforms import RandomCrop
    img = np.arange(32 * 32 * 3, dtype=np.int64).reshape(32, 32, 3).astype(np.uint8) | 1  # no zeros
    reflect = RandomCrop(crop_size=32, padding=4, padding_mode='reflect')
    for _ in range(20):
        out = reflect(dict(img=img.copy()))['img']
        assert out.shape == (32, 32, 3) and out.min() > 0
    # a crop at offset (0, 0) shows the reflected border: row -k is row k of the image
    padded = np.pad(img, ((4, 4), (4, 4), (0, 0)), mode='reflect')
    assert any(np.array_equal(reflect(dict(img=img.copy()))['img'], padded[:32, :32]) for _ in range(400))
    constant = RandomCrop(crop_size=32, padding=4, pad_val=0)
    assert min(constant(dict(img=img.copy()))['img'].min() for _ in range(20)) == 0


USER_CONFIG = "_base_ = 'emanplug::quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py'\n"


@pytest.mark.parametrize('first', ['emanplug', 'mmengine'])
def test_emanplug_configs_resolve_whatever_the_import_order(first, tmp_path):
    """``_base_ = 'emanplug::...'`` in a user's config, read by mmengine's own Config.fromfile
    in a program that imported emanplug before or after mmengine, and built in the
    ``emanplug`` scope that mmengine gives the inherited parts."""
    (tmp_path / 'user.py').write_text(USER_CONFIG)
    imports = 'import emanplug\nfrom mmengine.config import Config\n'
    if first == 'mmengine':
        imports = 'from mmengine.config import Config\nimport emanplug\n'
    script = imports + textwrap.dedent("""
        cfg = Config.fromfile('user.py')
        assert cfg.model._scope_ == 'emanplug', cfg.model.get('_scope_')
        from mmengine.registry import MODELS
        model = MODELS.build(cfg.model)
        print(type(model).__name__, cfg.model.scheme)
    """)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ['EMAMoCo', 'bn-eman']


def test_a_missing_or_wrong_mmcv_is_one_line(monkeypatch):
    import importlib.metadata
    import importlib.util

    from emanplug import compat
    from emanplug.errors import ConfigError
    compat.require_mmcv()  # this environment's mmcv-lite passes
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'mmcv' else find_spec(name, *a))
    with pytest.raises(ConfigError) as missing:
        compat.require_mmcv()
    assert 'no mmcv is installed' in str(missing.value) and "pip install 'mmcv-lite>=2.0.0,<2.3.0'" in str(missing.value)
    monkeypatch.setattr(importlib.util, 'find_spec', find_spec)
    monkeypatch.setattr(importlib.metadata, 'version', lambda name: '1.7.2' if name == 'mmcv' else '0')
    with pytest.raises(ConfigError) as old:
        compat.require_mmcv()
    assert str(old.value).startswith('mmcv 1.7.2 is installed; emanplug needs mmcv >= 2.0.0, < 2.3.0')
    assert '\n' not in str(missing.value) + str(old.value)


REGISTRATION_SCRIPT = """
import sys
import emanplug
assert 'mmengine' not in sys.modules  # import emanplug loads nothing of OpenMMLab
from mmpretrain.models import ResNet
model = ResNet(depth=18, norm_cfg=dict(type='EMAN'))
from mmengine.registry import HOOKS
print(type(model.bn1).__name__, HOOKS.get('EMANHook').__name__)
"""


def test_emanplug_types_build_after_import_emanplug_first():
    """Issue 29: a user's script imports emanplug first, then mmpretrain, and builds a ResNet
    with EMAN layers through mmcv's build_norm_layer (root MODELS registry, no scope): the
    adapters register themselves at that first look-up (the registries' import location)."""
    result = subprocess.run([sys.executable, '-c', REGISTRATION_SCRIPT], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ['EMAN', 'EMANHook']
