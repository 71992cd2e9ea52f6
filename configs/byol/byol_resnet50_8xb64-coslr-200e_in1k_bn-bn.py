# Table 1: BN / BN (teacher normalises with its batch)
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-bn'))
