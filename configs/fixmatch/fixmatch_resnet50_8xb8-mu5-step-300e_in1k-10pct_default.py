# Table 6: FixMatch, 10% labels, 3x schedule, from scratch
_base_ = '../_base_/fixmatch_resnet50_in1k-10pct-300e.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
