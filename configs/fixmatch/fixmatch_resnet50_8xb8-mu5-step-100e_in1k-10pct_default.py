# FixMatch's default: one model, labeled + weak + strong views concatenated; 10% labels (Tables 1 and 8)
_base_ = '../_base_/fixmatch_resnet50_in1k.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
