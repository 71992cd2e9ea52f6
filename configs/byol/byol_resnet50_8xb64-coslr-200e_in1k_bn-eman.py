# Table 2: BYOL-EMAN (BN / EMAN), 200 epochs
_base_ = './byol_resnet50_8xb64-coslr-200e_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
