# CPU budget: FixMatch, student / teacher: bn-bn
_base_ = './fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000.py'
model = dict(scheme=dict(type='bn-bn'))
