# Momentum^2 Teacher (Li et al., arXiv 2101.07525), ResNet-50, ImageNet, 8 GPUs x 32 images,
# 100 epochs: its small-batch recipe (the official experiment file
# exps/arxiv/exp_8_2080ti/momentum2_teacher_100e_32batch_1mm_099_exp.py and the base
# exps/arxiv/momentum2_teacher_exp.py it inherits; the official README reports 70.4 % linear
# top-1 for it), run with emanplug's BYOL model: the same BYOL projector / predictor
# (2048 -> 4096 -> 256, 256 -> 4096 -> 256), the same two augmented views and the symmetric loss
# (models/m2_teacher.py); the teacher's parameters follow a cosine momentum from 0.99 to 1.
# Official values: SGD lr 0.05 per 256 images (batch 256 -> 0.05), momentum 0.9, weight decay
# 1e-4, 10 linear warm-up epochs from lr 1e-6, then cosine per iteration ('warmcos',
# tools/train.py), param_momentum 1 - 0.01.  Rows beside it change only the scheme:
# m2teacher_..._bn-momentumbn.py is Momentum^2 Teacher itself (MomentumBN teacher),
# m2teacher_..._bn-eman.py is the same recipe with an EMAN teacher.  Main config of its family;
# on its own it trains with BN / EMAN.  Provenance: configs/byol/README.md.
_base_ = './byol_resnet50_8xb64-coslr-200e_in1k.py'
model = dict(teacher_momentum=0.99)
train_dataloader = dict(batch_size=32)  # per GPU; 8 GPUs -> 256
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
max_epochs = 100
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 0.05, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
