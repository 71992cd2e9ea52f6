# Linear classification, 100 % of the CIFAR-10 labels
_base_ = './linear_resnet18_1xb256-coslr-100e_cifar10.py'
train_dataloader = dict(dataset=dict(split_file=None))
