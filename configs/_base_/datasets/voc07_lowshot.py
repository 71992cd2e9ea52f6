# VOC07 low-shot classification on frozen features (EMAN paper Table 5, "VOC07" rows; Sec. 5.2:
# "low-shot classification was evaluated, with k samples per class. Following [Goyal et al. 2019,
# PCL], we trained linear SVMs on top of the frozen representations. We searched the best SVM cost
# parameter C in 2^[-5, 5], and averaged the numbers of 5 different sets of samples").  Protocol of
# Goyal et al., "Scaling and Benchmarking Self-Supervised Visual Representation Learning", ICCV 2019:
# k in {1, 2, 4, 8, 16} positive images per class drawn from VOC2007 trainval (bank), one linear SVM
# per class, mAP on VOC2007 test (query); difficult labels ignored in training and in AP
# (emanplug.evaluation.low_shot_svm_multilabel, multilabel_targets).
# Layout (mmpretrain's VOC dataset), from the PASCAL VOC2007 trainval and test tars
# (http://host.robots.ox.ac.uk/pascal/VOC/voc2007/: VOCtrainval_06-Nov-2007.tar, VOCtest_06-Nov-2007.tar)
# extracted in data/:
#   data/VOCdevkit/VOC2007/JPEGImages/*.jpg
#   data/VOCdevkit/VOC2007/Annotations/*.xml
#   data/VOCdevkit/VOC2007/ImageSets/Main/{trainval,test}.txt   (5,011 and 4,952 images)
# Images: the ImageNet test pipeline (resize 256 short side, center crop 224); PackInputs keeps
# gt_label_difficult, which multilabel_targets reads.
data_root = 'data/VOCdevkit/VOC2007'
num_classes = 20
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                                       'flip_direction', 'gt_label_difficult')),
]
lowshot_bank = dict(type='VOC', data_root=data_root, split='trainval', pipeline=test_pipeline)
lowshot_query = dict(type='VOC', data_root=data_root, split='test', pipeline=test_pipeline)
