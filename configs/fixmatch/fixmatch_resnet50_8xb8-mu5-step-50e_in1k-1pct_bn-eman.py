# Table 6: FixMatch-EMAN, 1% labels, 1x schedule, from scratch
_base_ = '../_base_/fixmatch_resnet50_in1k-1pct-50e.py'
model = dict(scheme=dict(type='bn-eman'))
