# Not in Table 6 (no 1 % result from scratch: "the default hyperparameters do not work very well"): FixMatch-EMAN, 1% labels, 1x
_base_ = './fixmatch_resnet50_8xb8-mu5-step-50e_in1k-1pct.py'
model = dict(scheme=dict(type='bn-eman'))
