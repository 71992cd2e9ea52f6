# student / teacher: bn-eman; 250 labels
_base_ = './fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py'
model = dict(scheme=dict(type='bn-eman'))
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_250_seed0.txt'))
