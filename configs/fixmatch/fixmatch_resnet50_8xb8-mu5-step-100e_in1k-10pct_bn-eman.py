# student / teacher: bn-eman; 10% labels (Tables 1 and 8; Table 6 1x from scratch)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct.py'
model = dict(scheme=dict(type='bn-eman'))
