# Not in Table 6 (no 1 % result from scratch): FixMatch, 1% labels, 3x
_base_ = './fixmatch_resnet50_8xb8-mu5-step-150e_in1k-1pct.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
