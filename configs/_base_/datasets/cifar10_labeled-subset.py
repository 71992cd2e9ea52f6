# CIFAR-10 (ImageFolder layout: data/cifar10/{train,test}/<class>/*.jpg) for the evaluation of a
# frozen backbone pretrained on CIFAR-10 (configs/{mocov2,byol}/benchmarks/*_cifar10*.py), the
# EMAN paper's Sec. 5.2 protocols at CIFAR scale:
# - linear classification on 1 / 10 / 100 % of the training labels (split_file: a list written by
#   python tools/make_split.py data/cifar10 --num-labeled 1% --seed N; None = every image), with
#   the usual CIFAR augmentation (random crop 32 with 4 px padding + flip), validated on test;
# - kNN (k = 200, T = 0.1: the CIFAR kNN monitor of the pretraining configs), retrieval (database =
#   train, queries = test, top 1000) and low-shot SVMs on train / test (frozen_protocols, a
#   KNNEvalHook for emanplug-test --protocol knn|retrieval|lowshot).
data_root = 'data/cifar10/'
split_file = None
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=256, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='LabeledSubset', split_file=split_file,
                 dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train',
                              pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=512, num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='test', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
frozen_protocols = dict(
    type='KNNEvalHook', k=200, temperature=0.1, models=('student',), at_start=False,
    bank=dict(type='CustomDataset', data_root=data_root, data_prefix='train', pipeline=test_pipeline),
    query=dict(type='CustomDataset', data_root=data_root, data_prefix='test', pipeline=test_pipeline),
    feature_dtype='float16', batch_size=512, num_workers=2)
