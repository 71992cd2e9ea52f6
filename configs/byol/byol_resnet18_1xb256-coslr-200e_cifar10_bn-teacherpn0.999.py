# Table 8: BN / teacher PN, alpha = 0.999
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='bn-teacherpn0.999'))
