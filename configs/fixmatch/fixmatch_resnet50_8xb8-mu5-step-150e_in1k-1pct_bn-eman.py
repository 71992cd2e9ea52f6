# Not in Table 6 (no 1 % result from scratch): FixMatch-EMAN, 1% labels, 3x
_base_ = './fixmatch_resnet50_8xb8-mu5-step-150e_in1k-1pct.py'
model = dict(scheme=dict(type='bn-eman'))
