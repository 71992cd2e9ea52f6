# Low-shot SVMs on PASCAL VOC2007 of a frozen BYOL ResNet-50 pretrained on ImageNet, the EMAN
# paper's Table 5 "VOC07" rows ("we directly used the frozen ImageNet representations for VOC"):
# k = 1, 2, 4, 8, 16 positives per class from trainval, one linear SVM per class, C in 2^[-5, 5],
# 5 draws, mAP on test (protocol, layout and sources: ../../_base_/datasets/voc07_lowshot.py).
#   emanplug-test THIS_CONFIG CHECKPOINT --protocol lowshot     (or emanplug-eval --protocols lowshot-voc07)
_base_ = [
    '../../_base_/models/resnet50_frozen.py',
    '../../_base_/datasets/voc07_lowshot.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(init_cfg=dict(checkpoint='work_dirs/byol_resnet50_8xb64-coslr-200e_in1k_bn-eman/epoch_200.pth', model='student')))
custom_hooks = [dict(type='KNNEvalHook', bank=_base_.lowshot_bank, query=_base_.lowshot_query,
                     num_classes=_base_.num_classes, models=('student',), at_start=False,
                     batch_size=256, num_workers=8)]
