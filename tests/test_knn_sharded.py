"""The frozen-feature protocols at ImageNet scale: the bank split into blocks, held in float16
and sharded over processes (emanplug/evaluation/knn.py ``nearest``) gives what one process
holding the whole bank in float32 gives."""
import pytest
import torch
import torch.nn.functional as F
from lightly.utils.benchmarking import knn_predict

from emanplug.evaluation.knn import knn_accuracy, knn_vote, nearest, retrieval_metrics


def features(n, dim=16, classes=7, seed=0, spread=0.9):
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(classes, dim, generator=torch.Generator().manual_seed(99)), dim=1)
    labels = torch.randint(classes, (n,), generator=g)
    return F.normalize(centres[labels] + spread * torch.randn(n, dim, generator=g), dim=1), labels


@pytest.mark.parametrize('temperature', [0.07, 0.1, 0.5])
def test_the_vote_is_lightlys_weighted_knn(temperature):
    bank, bank_y = features(500)
    query, _ = features(200, seed=1)
    sims, labels = nearest(query, bank, bank_y, 20)
    ours = knn_vote(sims, labels, 7, temperature)
    theirs = knn_predict(query, bank.t().contiguous(), bank_y, 7, 20, temperature)[:, 0]
    assert torch.equal(ours, theirs)


def test_blocks_change_nothing_and_half_precision_only_rounds():
    bank, bank_y = features(300)
    query, query_y = features(100, seed=1)
    whole = nearest(query, bank, bank_y, 20)
    blocks = nearest(query, bank, bank_y, 20, block=37)  # 9 blocks, the last one of 4 rows
    assert torch.allclose(whole[0], blocks[0], atol=1e-6) and torch.equal(whole[1], blocks[1])
    half = nearest(query.half(), bank.half(), bank_y, 20)
    # float16 keeps 11 significant bits: a similarity of unit vectors moves by < 2^-9
    assert (half[0] - whole[0]).abs().max() < 2 ** -9
    assert abs(knn_accuracy(bank.half(), bank_y, query.half(), query_y, k=20) -
               knn_accuracy(bank, bank_y, query, query_y, k=20)) <= 0.02  # 2 of 100 queries at most


def test_a_bank_smaller_than_k_uses_every_row():
    bank, bank_y = features(5)
    sims, labels = nearest(bank, bank, bank_y, 20)
    assert sims.shape == (5, 5) and torch.equal(labels[:, 0], bank_y)  # each its own nearest
    assert knn_accuracy(bank, bank_y, bank, bank_y, k=20, temperature=0.01) == 1.0


def _sharded_worker(rank, world, n, out):
    bank, bank_y = features(n)
    query, query_y = features(60, seed=1)
    shard, shard_y = bank[rank::world], bank_y[rank::world]  # uneven when n is odd; may be empty
    result = dict(
        knn=knn_accuracy(shard.half(), shard_y, query.half(), query_y, k=20, sharded=True),
        nearest=nearest(query, shard, shard_y, 20, sharded=True),
        retrieval=retrieval_metrics(query, query_y, shard, shard_y, top=50, sharded=True, chunk=16))
    torch.save(result, f'{out}/rank{rank}.pth')


@pytest.mark.parametrize('n', [101, 1])
def test_two_processes_holding_half_the_bank_each_get_one_process_s_result(tmp_path, n):
    from dist_utils import run_distributed
    run_distributed(_sharded_worker, n, str(tmp_path))
    bank, bank_y = features(n)
    query, query_y = features(60, seed=1)
    single = dict(knn=knn_accuracy(bank.half(), bank_y, query.half(), query_y, k=20),
                  nearest=nearest(query, bank, bank_y, 20),
                  retrieval=retrieval_metrics(query, query_y, bank, bank_y, top=50))
    for rank in (0, 1):  # every process gets the same, whole answer
        got = torch.load(tmp_path / f'rank{rank}.pth')
        assert got['knn'] == single['knn']
        assert torch.allclose(got['nearest'][0], single['nearest'][0], atol=1e-6)
        assert torch.equal(got['nearest'][1], single['nearest'][1])
        assert got['retrieval'] == pytest.approx(single['retrieval'], abs=1e-4)
