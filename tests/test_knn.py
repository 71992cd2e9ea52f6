"""kNN classifier on features with a known answer."""
import pytest
import torch
import torch.nn.functional as F

from emanplug.evaluation import knn_accuracy


def clusters(n_per_class, classes=10, dim=32, spread=0.05, seed=0):
    centres = F.normalize(torch.randn(classes, dim, generator=torch.Generator().manual_seed(99)), dim=1)
    g = torch.Generator().manual_seed(seed)  # the samples differ, the class centres do not
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    feats = centres[labels] + spread * torch.randn(len(labels), dim, generator=g)
    return F.normalize(feats, dim=1), labels


def test_separable_classes_give_100_percent():
    bank, bank_y = clusters(50)
    query, query_y = clusters(20, seed=1)
    for k in (1, 20, 200):
        assert knn_accuracy(bank, bank_y, query, query_y, k=k) == 1.0


def test_shuffled_labels_give_chance_level():
    bank, bank_y = clusters(200)
    query, query_y = clusters(100, seed=1)
    shuffled = bank_y[torch.randperm(len(bank_y), generator=torch.Generator().manual_seed(2))]
    acc = knn_accuracy(bank, shuffled, query, query_y, k=20)
    assert abs(acc - 0.1) < 0.05  # 1000 queries: chance 0.1, std ~0.01


def test_chunking_does_not_change_the_result():
    bank, bank_y = clusters(30, spread=0.8)
    query, query_y = clusters(30, spread=0.8, seed=3)
    assert knn_accuracy(bank, bank_y, query, query_y, k=20, chunk=7) == \
        knn_accuracy(bank, bank_y, query, query_y, k=20)


def test_retrieval_metrics_on_a_hand_computed_ranking():
    from emanplug.evaluation import retrieval_metrics
    # database along a circle: similarity to the query decreases with the index
    angles = torch.tensor([0.0, 0.2, 0.4, 0.6, 0.8])
    database = torch.stack([angles.cos(), angles.sin()], dim=1)
    labels = torch.tensor([1, 0, 1, 0, 1])  # ranking: R N R N R
    query = torch.tensor([[1.0, 0.0]])
    out = retrieval_metrics(query, torch.tensor([1]), database, labels, top=5)
    # AP = (1/1 + 2/3 + 3/5) / 3, recall = 3/3
    assert abs(out['mAP'] - 100 * (1 + 2 / 3 + 3 / 5) / 3) < 1e-4 and out['recall'] == 100.0
    top3 = retrieval_metrics(query, torch.tensor([1]), database, labels, top=3)
    # first 3: R N R -> AP = (1 + 2/3) / min(3, 3); recall 2/3
    assert abs(top3['mAP'] - 100 * (1 + 2 / 3) / 3) < 1e-4
    assert abs(top3['recall'] - 100 * 2 / 3) < 1e-4


def test_low_shot_svm_is_reproducible_and_learns_separable_data():
    from emanplug.evaluation import low_shot_svm
    bank, bank_y = clusters(20, spread=0.05)
    query, query_y = clusters(10, spread=0.05, seed=5)
    args = (bank.numpy(), bank_y.numpy(), query.numpy(), query_y.numpy())
    a = low_shot_svm(*args, shots=(1, 4), costs=(0.5, 8.0), draws=3, seed=7)
    b = low_shot_svm(*args, shots=(1, 4), costs=(0.5, 8.0), draws=3, seed=7)
    assert a == b
    assert a[4]['mean'] > 95 and a[1]['mean'] > 80 and a[4]['C'] in (0.5, 8.0)
    assert len(a[1]['accuracies']) == 3


def _hook_and_runner(root, model):
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from emanplug.evaluation.knn_hook import KNNEvalHook
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    data = dict(type='CustomDataset', data_root=str(root), pipeline=pipeline)
    hook = KNNEvalHook(bank=dict(data, data_prefix='train', indices=79),
                       query=dict(data, data_prefix='test', indices=39),
                       k=5, batch_size=7, num_workers=0)
    logs = []
    runner = SimpleNamespace(model=model, cfg={}, iter=0,
                             logger=MMLogger.get_instance('knn-test', log_level='WARNING'),
                             visualizer=SimpleNamespace(add_scalars=lambda d, step: logs.append(d)))
    return hook, runner


def _knn_model():
    from mmpretrain.models import ResNet_CIFAR, SelfSupDataPreprocessor
    from collections import OrderedDict

    from emanplug.core import EMATeacher, prepare_student
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.backbone = ResNet_CIFAR(depth=18, base_channels=8, stem_channels=8)
    model.data_preprocessor = SelfSupDataPreprocessor(mean=[128.0] * 3, std=[64.0] * 3, to_rgb=True)
    model.teacher = EMATeacher(prepare_student(torch.nn.Sequential(OrderedDict(backbone=model.backbone)), 'bn-eman'), 'bn-eman', momentum=0.9)
    with torch.no_grad():  # a teacher that differs from the student
        for p in model.teacher.module.parameters():
            p.mul_(0.5)
    return model


def _knn_worker(rank, world, root, out_dir):
    hook, runner = _hook_and_runner(root, _knn_model())
    feats = hook.features(runner, 'teacher')
    results = hook.evaluate(runner, 0)
    if rank == 0:
        torch.save(dict(results=results, feats=feats), f'{out_dir}/dist.pth')


def test_knn_hook_distributed_equals_single_process(cifar_root, tmp_path):
    """2 gloo processes each extract every 2nd image (an odd number of them, so the shards
    differ in length); the gathered features and the accuracies equal one process's."""
    from dist_utils import run_distributed
    hook, runner = _hook_and_runner(cifar_root, _knn_model())
    single = hook.features(runner, 'teacher')
    single_results = hook.evaluate(runner, 0)
    assert (len(single[0]), len(single[2])) == (79, 39)
    run_distributed(_knn_worker, str(cifar_root), str(tmp_path))
    dist_out = torch.load(tmp_path / 'dist.pth')
    for a, b in zip(single, dist_out['feats']):
        assert a.shape == b.shape and torch.allclose(a.float(), b.float(), atol=1e-5)
    cos = 'knn/student_teacher_cos'
    assert set(single_results) == {'knn/student_top1', 'knn/teacher_top1', cos}
    assert {k: v for k, v in dist_out['results'].items() if k != cos} == \
        {k: v for k, v in single_results.items() if k != cos}
    assert dist_out['results'][cos] == pytest.approx(single_results[cos], abs=1e-6)
    # the mean cosine of the student's and the teacher's (L2-normalised) query features
    student = hook.features(runner, 'student')
    assert single_results[cos] == pytest.approx(float((student[2] * single[2]).sum(1).mean()), abs=1e-6)
    assert -1.0 <= single_results[cos] < 1.0  # the teacher's weights were halved: not equal


def test_gather_strided_restores_the_order_of_uneven_shards():
    from dist_utils import run_distributed
    run_distributed(_strided_worker, 7)


def _strided_worker(rank, world, total):
    from emanplug.core.distributed import gather_strided
    items = torch.arange(total * 2).view(total, 2)
    shard = items[rank::world]
    assert torch.equal(gather_strided(shard, total), items)
