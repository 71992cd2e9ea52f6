_base_ = '../_base_/byol_resnet18_cifar10_cpu-budget.py'
# Table 1: BN / ShuffleBN (MoCo default)
model = dict(scheme=dict(type='bn-shufflebn'))  # 2 processes: the global batch is shuffled across them
