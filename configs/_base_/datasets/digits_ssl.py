# scikit-learn's digits (ships with scikit-learn: no download), 16x16, two views per image.
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[60.0, 60.0, 60.0],
                         std=[90.0, 90.0, 90.0], to_rgb=False)
# No flips (digits are not mirror-symmetric); the background is black, so pad with 0.
view_pipeline = [
    dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.6, 1.),
         aspect_ratio_range=(0.8, 1.25), backend='pillow'),
    dict(type='Rotate', angle=10., prob=0.5, pad_val=0, interpolation='bilinear'),
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)]),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=0, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='Digits', split='train', pipeline=train_pipeline))
# Low-shot kNN: the bank is 10 labelled train images per class (100 images), the queries
# the whole test split.  With the whole train split as bank even an untrained network
# scores ~0.93 (raw pixels ~0.97), which leaves no room to see learning.
knn_hook = dict(
    type='KNNEvalHook',
    interval=5, k=20, temperature=0.1, batch_size=512, num_workers=0,
    bank=dict(type='Digits', split='train', num_per_class=10, pipeline=[dict(type='PackInputs')]),
    query=dict(type='Digits', split='test', pipeline=[dict(type='PackInputs')]))
