# Table 1: IN / IN
_base_ = '../_base_/mocov2_resnet50_in1k.py'
model = dict(scheme=dict(type='in-in'))
