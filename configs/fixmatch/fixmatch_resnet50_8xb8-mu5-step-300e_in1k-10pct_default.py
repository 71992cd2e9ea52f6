# Table 6: FixMatch, 10% labels, 3x schedule, from scratch
_base_ = './fixmatch_resnet50_8xb8-mu5-step-300e_in1k-10pct.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
