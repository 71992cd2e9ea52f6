_base_ = './mocov2_resnet18_2xb32-coslr-16e_cifar10-10k.py'
# Table 1: BN / ShuffleBN (MoCo default)
model = dict(scheme=dict(type='bn-shufflebn'))  # 2 processes: the global batch is shuffled across them
