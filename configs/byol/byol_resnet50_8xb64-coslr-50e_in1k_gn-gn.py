# Table 1: GN / GN (32 groups)
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='gn-gn'))
