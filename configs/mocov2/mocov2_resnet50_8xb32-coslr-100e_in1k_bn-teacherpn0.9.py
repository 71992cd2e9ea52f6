# Table 8: BN / teacher PN, alpha = 0.9
_base_ = './mocov2_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-teacherpn0.9'))
