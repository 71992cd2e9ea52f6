# CIFAR-10 at a CPU budget for the self-supervised rows of bench/table1_cifar10.sh: a
# class-balanced 10,000-image subset of train/ (two views per image, MoCo v2 / BYOL
# augmentations at 32 px), kNN monitor on 5,000 train images (bank) and 5,000 test images
# (queries), both class-balanced, as the paper's Section 5.1 samples 10 % / 50 %.
# The split files come from tools/make_split.py (bench/table1_cifar10.sh writes them):
#   python tools/make_split.py data/cifar10 --num-labeled 10000 --seed 0
#   python tools/make_split.py data/cifar10 --num-labeled 5000 --seed 0
#   python tools/make_split.py data/cifar10 --num-labeled 5000 --seed 0 --subset test
_base_ = './cifar10_ssl.py'
train_split = 'data/cifar10/splits/train_10000_seed0.txt'
bank_split = 'data/cifar10/splits/train_5000_seed0.txt'
query_split = 'data/cifar10/splits/test_5000_seed0.txt'
train_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True,  # per process; 2 processes
    dataset=dict(_delete_=True, type='LabeledSubset', split_file=train_split,
                 dataset=dict(type='CustomDataset', data_root='data/cifar10/', data_prefix='train',
                              pipeline={{_base_.train_pipeline}})))
knn_hook = dict(
    interval=4, batch_size=500,
    bank=dict(_delete_=True, type='LabeledSubset', split_file=bank_split,
              dataset=dict(type='CustomDataset', data_root='data/cifar10/', data_prefix='train',
                            pipeline={{_base_.knn_pipeline}})),
    query=dict(_delete_=True, type='LabeledSubset', split_file=query_split,
               dataset=dict(type='CustomDataset', data_root='data/cifar10/', data_prefix='test',
                            pipeline={{_base_.knn_pipeline}})))
