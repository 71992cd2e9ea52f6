# student / teacher: bn-bn; 4000 labels
_base_ = '../_base_/fixmatch_resnet18_cifar10.py'
model = dict(scheme=dict(type='bn-bn'))
