# Table 1: GN / GN (32 groups)
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='gn-gn'))
