# CIFAR-10 (ImageFolder layout) for FixMatch: a labeled split file + the rest as unlabeled.
# Write the split with:  python tools/make_split.py data/cifar10 --num-labeled 4000 --seed 0
data_root = 'data/cifar10/'
split_file = 'data/cifar10/splits/train_4000_seed0.txt'
mean, std = [125.307, 122.961, 113.8575], [51.5865, 50.847, 51.255]
weak = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=32, padding=4, padding_mode='reflect'),
]
strong = weak + [
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=10, magnitude_std=0.5, hparams=dict(pad_val=[128, 128, 128])),
    dict(type='Cutout', shape=16, pad_val=[128, 128, 128]),
]
labeled_pipeline = [dict(type='LoadImageFromFile')] + weak + [dict(type='PackInputs')]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[weak, strong]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=4, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SemiSupervisedDataset', mu=7, split_file=split_file,
                 dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train'),
                 labeled_pipeline=labeled_pipeline, unlabeled_pipeline=unlabeled_pipeline))
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
val_dataloader = dict(
    batch_size=256, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='test', pipeline=test_pipeline))
val_evaluator = dict(type='StudentTeacherAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
