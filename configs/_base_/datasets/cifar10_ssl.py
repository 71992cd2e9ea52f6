# CIFAR-10 in the ImageFolder layout (train/<class>/*.jpg, test/<class>/*.jpg), two
# augmented views per image (MoCo v2 / BYOL augmentations at 32 px).
# Set data_root to the folder that holds train/ and test/, e.g.
#   --cfg-options train_dataloader.dataset.data_root=data/cifar10
dataset_type = 'CustomDataset'
data_root = 'data/cifar10/'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[125.307, 122.961, 113.8575],
                         std=[51.5865, 50.847, 51.255], to_rgb=True)
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256, num_workers=4, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train',
                 pipeline=train_pipeline))
# kNN monitor (Figure 3 of the paper): bank = train images, queries = test images.
knn_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
knn_hook = dict(
    type='KNNEvalHook',
    interval=10, k=200, temperature=0.1,
    # without a type: the training dataset with these keys replaced (same data_root)
    bank=dict(data_prefix='train', pipeline=knn_pipeline),
    query=dict(data_prefix='test', pipeline=knn_pipeline),
    batch_size=512)
