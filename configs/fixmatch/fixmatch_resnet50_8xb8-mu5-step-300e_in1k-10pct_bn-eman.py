# Table 6: FixMatch-EMAN, 10% labels, 3x schedule, from scratch
_base_ = '../_base_/fixmatch_resnet50_in1k-10pct-300e.py'
model = dict(scheme=dict(type='bn-eman'))
