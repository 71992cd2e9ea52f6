# ImageNet for linear classification and fine-tuning on 1 % / 10 % / 100 % of the labels
# (EMAN paper Sec. 5.2): mmpretrain's layout under data/imagenet/ (meta/train.txt, meta/val.txt).
# split_file: the labelled images, read in both published formats (emanplug/datasets/splits.py):
# the official train_{1,10}p_index.csv (column Index = positions in torchvision's ImageFolder
# order) and lists of file names (data/imagenet/splits/{1,10}percent.txt); None = every image.
# Augmentations of the official data/transforms.py (DefaultTrain / DefaultVal):
# RandomResizedCrop(224) (scale 0.08-1, bilinear) + flip; val resize 256 + center crop 224.
data_root = 'data/imagenet/'
split_file = None
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.08, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='LabeledSubset', split_file=split_file,
                 dataset=dict(type='ImageNet', data_root=data_root, split='train', pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='val', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
