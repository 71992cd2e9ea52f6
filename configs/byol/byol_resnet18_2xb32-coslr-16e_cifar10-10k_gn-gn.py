_base_ = './byol_resnet18_2xb32-coslr-16e_cifar10-10k.py'
# Table 1: GN / GN (32 groups)
model = dict(scheme=dict(type='gn-gn'))
