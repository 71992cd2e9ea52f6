_base_ = './mocov2_resnet18_2xb32-coslr-16e-bnwarm10-m995_cifar10-10k.py'
# BN / BN, teacher momentum 0.995, teacher statistics warm-started on 10 batches
model = dict(scheme=dict(type='bn-bn'))
