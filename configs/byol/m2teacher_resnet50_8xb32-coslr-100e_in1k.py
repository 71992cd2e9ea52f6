# Momentum^2 Teacher (Li et al., arXiv 2101.07525), ResNet-50, ImageNet, 8 GPUs x 32 images,
# 100 epochs: its small-batch recipe (the official experiment file
# exps/arxiv/exp_8_2080ti/momentum2_teacher_100e_32batch_1mm_099_exp.py and the base
# exps/arxiv/momentum2_teacher_exp.py it inherits; the official README reports 70.4 % linear
# top-1 for it), run with emanplug's BYOL model.  From Momentum^2 Teacher's own code
# (momentum_teacher/models/m2_teacher.py, models/resnet_mbn.py, data/transforms.py): the two
# views of its byol_transform (crop scale 0.08-1, its order of operations), the projector
# 2048 -> 4096 -> 256 and predictor 256 -> 4096 -> 256 as fc-BN-ReLU-fc WITH biases and
# PyTorch's default initialisation, the symmetric 2 - 2 cos loss, ResNet-50 with
# zero_init_residual=False, and the teacher's cosine momentum from 0.99 to 1.  Official
# optimisation: SGD lr 0.05 per 256 images, momentum 0.9, weight decay 1e-4 on every student
# parameter, 10 linear warm-up epochs from lr 1e-6, then cosine per iteration ('warmcos').
# Inherited from the EMAN-BYOL config (same values in both codes): the input normalisation and
# the dropped last batch.  Rows beside it change only the scheme: m2teacher_..._bn-momentumbn.py
# is Momentum^2 Teacher itself (MomentumBN teacher), m2teacher_..._bn-eman.py the same recipe
# with an EMAN teacher.  Main config of its family; on its own it trains with BN / EMAN.
# Provenance of every value (file@commit:line): configs/byol/metafile.yml, Momentum2-Teacher-100e.
_base_ = './byol_resnet50_8xb64-coslr-200e_in1k.py'
model = dict(
    teacher_momentum=0.99,
    # biases in every fc layer and init_cfg None: nn.Linear's / nn.BatchNorm1d's own init
    neck=dict(with_bias=True, with_last_bias=True, init_cfg=None),
    head=dict(predictor=dict(with_bias=True, with_last_bias=True, init_cfg=None)))
# Momentum^2 Teacher's byol_transform: view 1 blurred always and never solarised, view 2 blurred
# with p 0.1 and solarised with p 0.2; both crop with scale 0.08-1 (torchvision's bilinear)
m2t_crop = dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.08, 1.),
                interpolation='bilinear', backend='pillow')
m2t_jitter = dict(type='RandomApply', prob=0.8, transforms=[
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)])
m2t_gray = dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
                channel_weights=(0.114, 0.587, 0.2989))
m2t_flip = dict(type='RandomFlip', prob=0.5)
m2t_view1 = [m2t_crop, m2t_jitter,
             dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=1.),
             m2t_gray, m2t_flip]
m2t_view2 = [m2t_crop, m2t_jitter,
             dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.1),
             m2t_gray, m2t_flip, dict(type='Solarize', thr=128, prob=0.2)]
train_dataloader = dict(
    batch_size=32,  # per GPU; 8 GPUs -> 256
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='MultiView', num_views=[1, 1], transforms=[m2t_view1, m2t_view2]),
        dict(type='PackInputs'),
    ]))
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
