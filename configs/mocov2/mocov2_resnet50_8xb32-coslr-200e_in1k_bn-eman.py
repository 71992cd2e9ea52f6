# Table 2: MoCo-EMAN (BN / EMAN), 200 epochs
_base_ = './mocov2_resnet50_8xb32-coslr-200e_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
