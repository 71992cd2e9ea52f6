# scikit-learn's digits (ships with scikit-learn: no download), 16x16, two views per image.
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[60.0, 60.0, 60.0],
                         std=[90.0, 90.0, 90.0], to_rgb=False)
view_pipeline = [
    dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.3, 1.), backend='pillow'),
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
knn_hook = dict(
    type='KNNEvalHook',
    interval=2, k=20, temperature=0.1, batch_size=512, num_workers=0,
    bank=dict(type='Digits', split='train', pipeline=[dict(type='PackInputs')]),
    query=dict(type='Digits', split='test', pipeline=[dict(type='PackInputs')]))
