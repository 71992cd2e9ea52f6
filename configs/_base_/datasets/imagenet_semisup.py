# ImageNet (ImageFolder layout under data/imagenet/train, val) for FixMatch, 224 px.
# The 1% / 10% index lists published with the paper's code (one file name per line) are
# read as they are; tools/make_split.py writes class-balanced ones.
# Augmentations of the EMAN paper's code (data/transforms.py, main_fixmatch.py): labeled and
# weak views RandomResizedCrop(224, scale 0.08-1, bilinear) + horizontal flip; strong view the
# same + RandAugment(n=2, m=10) with a random level per operation and no Cutout
# (RandomMagnitudeRandAugment, emanplug/datasets/random_magnitude_randaugment.py).
data_root = 'data/imagenet/'
split_file = 'data/imagenet/splits/10percent.txt'
mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
weak = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
strong = weak + [dict(type='RandomMagnitudeRandAugment', num_ops=2, magnitude=10)]
labeled_pipeline = [dict(type='LoadImageFromFile')] + weak + [dict(type='PackInputs')]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[weak, strong]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SemiSupervisedDataset', mu=5, split_file=split_file, unlabeled='rest',
                 dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train'),
                 labeled_pipeline=labeled_pipeline, unlabeled_pipeline=unlabeled_pipeline))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='val', pipeline=test_pipeline))
val_evaluator = dict(type='StudentTeacherAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
