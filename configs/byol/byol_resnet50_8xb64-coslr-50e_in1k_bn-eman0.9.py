# Table 8 lists no BYOL row for EMAN m = 0.9 (not in the paper): BN / EMAN, statistics momentum m = 0.9
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='bn-eman0.9'))
