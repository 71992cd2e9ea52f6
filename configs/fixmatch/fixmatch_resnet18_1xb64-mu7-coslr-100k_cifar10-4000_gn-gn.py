# student / teacher: gn-gn; 4000 labels
_base_ = './fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py'
model = dict(scheme=dict(type='gn-gn'))
