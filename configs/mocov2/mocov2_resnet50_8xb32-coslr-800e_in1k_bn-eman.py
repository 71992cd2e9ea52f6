# Table 2: MoCo-EMAN (800), BN / EMAN
_base_ = './mocov2_resnet50_8xb32-coslr-800e_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
