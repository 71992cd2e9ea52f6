# Table 6: FixMatch, 1% labels, 1x schedule, from scratch
_base_ = '../_base_/fixmatch_resnet50_in1k-1pct-50e.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
