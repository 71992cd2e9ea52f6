_base_ = './byol_resnet18_2xb32-coslr-16e-bnwarm10_cifar10-10k.py'
# Table 1: BN / BN (teacher normalises with its batch), teacher statistics warm-started on 10 batches
model = dict(scheme=dict(type='bn-bn'))
