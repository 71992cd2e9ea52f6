# CPU budget: FixMatch, student / teacher: bn-eman
_base_ = './fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000.py'
model = dict(scheme=dict(type='bn-eman'))
