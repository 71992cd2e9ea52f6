_base_ = './fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it-bnwarm10_cifar10-4000.py'
# BN / BN, teacher statistics warm-started on 10 batches
model = dict(scheme=dict(type='bn-bn'))
