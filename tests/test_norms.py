"""Each norm layer follows its definition (method notes, section 2) on hand-checked inputs."""
import pytest
import torch
import torch.nn as nn

from emanplug.core import (EMAN, EMATeacher, prepare_student, InstanceNorm, MomentumBN, SplitBatchNorm,
                           TeacherPN, build_scheme, momentum_bn_weight)

from helpers import small_convnet


def hand_norm(x, mean, var, eps=1e-5):
    return (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)


def with_stats(layer, mean, var):
    layer.running_mean.copy_(mean)
    layer.running_var.copy_(var)
    return layer


def test_eman_normalises_with_running_stats_in_train_mode():
    layer = with_stats(EMAN(2), torch.tensor([1.0, -2.0]), torch.tensor([4.0, 0.25])).train()
    x = torch.randn(3, 2, 2, 2)
    assert torch.allclose(layer(x), hand_norm(x, layer.running_mean, layer.running_var), atol=1e-6)


def test_teacher_pn_uses_previous_stats_then_updates():
    layer = with_stats(TeacherPN(2, momentum=0.1), torch.tensor([1.0, -2.0]),
                       torch.tensor([4.0, 0.25])).train()
    x = torch.randn(6, 2, 3, 3)
    out = layer(x)
    assert torch.allclose(out, hand_norm(x, torch.tensor([1.0, -2.0]),
                                         torch.tensor([4.0, 0.25])), atol=1e-6)
    bmean = x.mean(dim=(0, 2, 3))
    bvar = x.var(dim=(0, 2, 3), unbiased=True)
    assert torch.allclose(layer.running_mean, 0.9 * torch.tensor([1.0, -2.0]) + 0.1 * bmean)
    assert torch.allclose(layer.running_var, 0.9 * torch.tensor([4.0, 0.25]) + 0.1 * bvar)
    assert layer.num_batches_tracked.item() == 1
    # next call normalises with the statistics updated by this one
    out2 = layer(x)
    assert torch.allclose(out2, hand_norm(x, 0.9 * torch.tensor([1.0, -2.0]) + 0.1 * bmean,
                                          0.9 * torch.tensor([4.0, 0.25]) + 0.1 * bvar), atol=1e-5)


def test_teacher_pn_scheme_converts_alpha():
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-teacherpn0.999'), 'bn-teacherpn0.999')
    layers = [m for m in teacher.module.modules() if isinstance(m, TeacherPN)]
    assert len(layers) == 3 and all(m.momentum == pytest.approx(0.001) for m in layers)


def m2t_batch_stats(x):
    """Momentum^2 Teacher's batch statistics by hand (sums over all but the channel dimension):
    the mean, and torch.var's unbiased variance multiplied once more by n / (n - 1), as its
    MomentumBatchNorm{1,2}d compute them (see MomentumBN's docstring for the source lines)."""
    dims = [0] + list(range(2, x.dim()))
    n = x.numel() // x.shape[1]
    mean = x.sum(dim=dims) / n
    centred = x - mean.view(1, -1, *([1] * (x.dim() - 2)))
    sum_sq = (centred * centred).sum(dim=dims)
    return mean, sum_sq / (n - 1) * n / (n - 1)


@pytest.mark.parametrize('shape', [(32, 3), (6, 2, 3, 3)])
@pytest.mark.parametrize('w', [1.0, 0.3])
def test_momentum_bn_uses_momentum2_teachers_variance_float64(shape, w):
    """Against a hand computation in float64: the variance is sum_sq / (n - 1) * n / (n - 1),
    not BN's biased sum_sq / n (at n = 32 the two differ by (32 / 31)^2 = 6.6 %)."""
    gen = torch.Generator().manual_seed(0)
    x = (3.0 * torch.randn(*shape, generator=gen, dtype=torch.float64) + 1.5)
    channels = shape[1]
    mean0 = torch.linspace(-1.0, 1.0, channels, dtype=torch.float64)
    var0 = torch.linspace(0.5, 2.0, channels, dtype=torch.float64)
    layer = with_stats(MomentumBN(channels).double(), mean0, var0).train()
    layer.batch_weight = w
    bmean, bvar = m2t_batch_stats(x)
    n = x.numel() // channels
    biased = ((x - bmean.view(1, -1, *([1] * (x.dim() - 2)))) ** 2).sum(dim=[0] + list(range(2, x.dim()))) / n
    assert torch.allclose(bvar / biased, torch.full_like(bvar, (n / (n - 1)) ** 2), rtol=1e-12, atol=0)
    mean, var = w * bmean + (1 - w) * mean0, w * bvar + (1 - w) * var0
    expected = (x - mean.view(1, -1, *([1] * (x.dim() - 2)))) / torch.sqrt(
        var.view(1, -1, *([1] * (x.dim() - 2))) + 1e-5)
    assert torch.allclose(layer(x), expected, rtol=1e-12, atol=1e-12)
    layer.end_iteration()
    assert torch.allclose(layer.running_var, var, rtol=1e-12, atol=0)
    assert torch.allclose(layer.running_mean, mean, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('w', [1.0, 0.3, 0.0])
def test_momentum_bn_mixes_batch_and_running_stats_and_moves_once_per_iteration(w):
    mean0, var0 = torch.tensor([1.0, -2.0]), torch.tensor([4.0, 0.25])
    layer = with_stats(MomentumBN(2), mean0, var0).train()
    layer.batch_weight = w
    x = torch.randn(6, 2, 3, 3)
    bmean, bvar = m2t_batch_stats(x)
    mean, var = w * bmean + (1 - w) * mean0, w * bvar + (1 - w) * var0
    assert torch.allclose(layer(x), hand_norm(x, mean, var), atol=1e-5)
    assert torch.equal(layer.running_mean, mean0) and torch.equal(layer.running_var, var0)
    layer.end_iteration()
    assert torch.allclose(layer.running_mean, mean) and torch.allclose(layer.running_var, var)
    assert int(layer.num_batches_tracked) == 1


def test_momentum_bn_two_views_of_one_iteration_see_the_same_running_stats():
    """Momentum^2 Teacher's semantics: running statistics fixed within an iteration, one move
    per iteration from the mean of the views' batch statistics (w, not w twice)."""
    w, mean0, var0 = 0.25, torch.tensor([1.0, -2.0]), torch.tensor([4.0, 0.25])
    layer = with_stats(MomentumBN(2), mean0, var0).train()
    layer.batch_weight = w
    views = [torch.randn(6, 2, 3, 3), 3 + 2 * torch.randn(6, 2, 3, 3)]
    stats = [m2t_batch_stats(v) for v in views]
    for v, (bm, bv) in zip(views, stats):
        expected = hand_norm(v, w * bm + (1 - w) * mean0, w * bv + (1 - w) * var0)
        assert torch.allclose(layer(v), expected, atol=1e-5)  # the second view: still mean0, var0
    layer.end_iteration()
    avg_mean = (stats[0][0] + stats[1][0]) / 2
    avg_var = (stats[0][1] + stats[1][1]) / 2
    assert torch.allclose(layer.running_mean, w * avg_mean + (1 - w) * mean0)
    assert torch.allclose(layer.running_var, w * avg_var + (1 - w) * var0)
    layer.end_iteration()  # no calls since: nothing moves
    assert torch.allclose(layer.running_mean, w * avg_mean + (1 - w) * mean0)


def test_momentum_bn_teacher_moves_its_statistics_in_update():
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-momentumbn'), 'bn-momentumbn')
    teacher.update(49, 100)  # progress 0.5: w = 0.5 for the next iteration
    bn = next(m for m in teacher.module.modules() if isinstance(m, MomentumBN))
    before = bn.running_mean.clone()
    teacher(torch.randn(4, 3, 8, 8))
    teacher(torch.randn(4, 3, 8, 8))
    assert torch.equal(bn.running_mean, before)
    teacher.update(50, 100)
    assert not torch.equal(bn.running_mean, before) and int(bn.num_batches_tracked) == 1


def test_momentum_bn_weight_decays_by_cosine_from_one_to_zero():
    assert momentum_bn_weight(0.0) == 1.0
    assert momentum_bn_weight(0.5) == pytest.approx(0.5)
    assert momentum_bn_weight(1.0) == pytest.approx(0.0)
    teacher = EMATeacher(prepare_student(small_convnet(), 'bn-momentumbn'), 'bn-momentumbn')
    teacher.set_progress(25, 100)
    weights = {m.batch_weight for m in teacher.module.modules() if isinstance(m, MomentumBN)}
    assert weights == {momentum_bn_weight(0.25)}


def test_split_batchnorm_normalises_each_sub_batch_with_its_own_stats():
    layer = SplitBatchNorm(3, num_splits=2, momentum=0.1).train()
    x = torch.randn(8, 3, 4, 4)
    out = layer(x)
    ref = torch.cat([nn.functional.batch_norm(part, None, None, training=True) for part in x.chunk(2)])
    assert torch.allclose(out, ref, atol=1e-5)
    parts_mean = torch.stack([p.mean(dim=(0, 2, 3)) for p in x.chunk(2)]).mean(0)
    assert torch.allclose(layer.running_mean, 0.1 * parts_mean, atol=1e-6)


def test_group_norm_scheme_converts_and_checks_groups():
    student = small_convnet(width=8)
    EMATeacher(prepare_student(student, dict(type='gn', num_groups=4)), dict(type='gn', num_groups=4))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in student.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in student.modules())
    with pytest.raises(ValueError, match=r"num_groups=3 does not divide the 8 channels of layer '1'"):
        EMATeacher(prepare_student(small_convnet(width=8), dict(type='gn', num_groups=3)), dict(type='gn', num_groups=3))


def test_instance_norm_on_1d_input_is_layer_norm():
    layer = InstanceNorm(6)
    x = torch.randn(4, 6)
    assert torch.allclose(layer(x), nn.functional.layer_norm(x, (6,)), atol=1e-6)
    y = torch.randn(4, 6, 3, 3)
    assert torch.allclose(layer(y), nn.functional.instance_norm(y), atol=1e-5)


def test_scheme_tokens():
    assert build_scheme('bn-eman').token == 'bn-eman'
    assert build_scheme('bn-eman0.9').momentum == 0.9
    assert build_scheme('bn-teacherpn0.999').alpha == 0.999
    assert build_scheme('syncbn-syncbn').token == 'syncbn-syncbn'
    assert build_scheme(dict(type='shufflebn', num_splits=4)).num_splits == 4
    assert build_scheme('GN').token == 'gn-gn'


def test_a_new_scheme_is_one_registered_class():
    from emanplug.core import NormScheme, register_scheme
    from emanplug.core.schemes import SCHEMES, convert_to

    @register_scheme('frozenstats')
    class FrozenStats(NormScheme):
        """Teacher normalises with the student's initial statistics, never updated."""
        def convert_teacher(self, module):
            return replace_batchnorms_for_test(module)

    def replace_batchnorms_for_test(module):
        from emanplug.core import replace_batchnorms
        return replace_batchnorms(module, convert_to(EMAN))

    try:
        teacher = EMATeacher(prepare_student(small_convnet(), 'bn-frozenstats'), 'bn-frozenstats')
        assert teacher.scheme.token == 'bn-frozenstats'
        assert any(isinstance(m, EMAN) for m in teacher.module.modules())
        with pytest.raises(KeyError, match='already registered'):
            register_scheme('frozenstats')(FrozenStats)
    finally:
        SCHEMES.pop('frozenstats')
