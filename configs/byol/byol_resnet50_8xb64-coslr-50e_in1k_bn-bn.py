# Table 1: BN / BN (teacher normalises with its batch)
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='bn-bn'))
