# Table 1: IN / IN
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='in-in'))
