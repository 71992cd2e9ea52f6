# Table 1: BN / ShuffleBN (MoCo default)
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='shufflebn', num_splits=8))  # one process: 8 sub-batches of 32 (a shuffle needs sub-batches)
