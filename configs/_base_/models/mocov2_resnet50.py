# MoCo v2, ResNet-50 (He et al. / Chen et al.), key encoder = emanplug EMA teacher.
# As the EMAN paper's code builds it (main_moco.py, models/moco.py of the official repository):
# m 0.999, queue 65536, 128-d keys, MLP head 2048 -> 2048 -> 128 (with biases, PyTorch's default
# init), T 0.2 (the official command's --moco-t 0.2).  Provenance: configs/mocov2/README.md, metafile.yml.
model = dict(
    type='EMAMoCo',
    scheme=dict(type='bn-eman'),  # student/teacher normalisation: the one line each ablation changes
    teacher_momentum=0.999,  # paper convention: weight of the old teacher value
    queue_len=65536,
    feat_dim=128,
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=2048, hid_channels=2048, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
