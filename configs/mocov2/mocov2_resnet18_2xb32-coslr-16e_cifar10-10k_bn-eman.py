_base_ = './mocov2_resnet18_2xb32-coslr-16e_cifar10-10k.py'
# Table 1: BN / EMAN
model = dict(scheme=dict(type='bn-eman'))
