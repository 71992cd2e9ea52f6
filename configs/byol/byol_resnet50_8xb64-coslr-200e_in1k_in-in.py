# Table 1: IN / IN
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='in-in'))
