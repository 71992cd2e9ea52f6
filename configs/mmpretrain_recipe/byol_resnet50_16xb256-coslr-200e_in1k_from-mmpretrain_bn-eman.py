# mmpretrain's own BYOL config, switched to an EMAN teacher by emanplug.
_base_ = 'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
# EMABYOL takes every argument of mmpretrain's BYOL; its inherited base_momentum=0.01 is read
# as m_0 = 0.99 (annealed to 1 by cosine).  'bn-eman' makes the student's SyncBN plain BN.
model = dict(type='EMABYOL', scheme='bn-eman')
custom_hooks = [dict(type='EMANHook')]
