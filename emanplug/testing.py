"""Old import path of :class:`~emanplug.hooks.teacher_check.TeacherCheckHook`, the hook that
checks a run's teachers against eq. (1) / (9), and :func:`make_fake_voc`, a tiny VOC2007 folder
for the VOC07 low-shot tests."""
from .hooks.teacher_check import TeacherCheckHook

__all__ = ['TeacherCheckHook', 'VOC_CLASSES', 'make_fake_voc']

#: mmpretrain's VOC2007 class names, in its order (``mmpretrain.datasets.categories.VOC2007_CATEGORIES``)
VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')


def make_fake_voc(root, classes=VOC_CLASSES, per_class_trainval: int = 2, per_class_test: int = 2,
                  size: int = 64, seed: int = 0) -> dict:
    """Write a tiny VOC2007-shaped folder for tests; returns what it annotated.

    ``root`` receives ``JPEGImages/*.jpg`` (random ``size`` x ``size`` JPEGs), ``Annotations/*.xml``
    (``object/name``, ``object/difficult``, ``object/bndbox``) and ``ImageSets/Main/{trainval,test}.txt``,
    the layout mmpretrain's ``VOC`` dataset reads.  Each split has ``per_class_*`` images per class
    with a non-difficult object of it; every third image also has an object of another class,
    difficult on every other such image; every fifth also has a difficult object of its own class
    (a class with a difficult and a normal object is a positive); the last image of each split
    has only a difficult object (no positive at all).  Returns ``{split: [(image_id, positives,
    difficult_only)]}`` in file order, the class indices sorted, what
    :func:`emanplug.evaluation.multilabel_targets` should give.
    """
    import os
    import os.path as osp
    import xml.etree.ElementTree as ET

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    num, number, out = len(classes), 0, {}
    for split, per_class in (('trainval', per_class_trainval), ('test', per_class_test)):
        images = []
        for c in range(num):
            for i in range(per_class):
                number += 1
                objects = [(c, 0)]
                if number % 3 == 0:
                    objects.append(((c + 1 + i) % num, (number // 3) % 2))
                if number % 5 == 0:
                    objects.append((c, 1))
                images.append((f'{number:06d}', objects))
        number += 1
        images.append((f'{number:06d}', [(number % num, 1)]))
        rows = []
        for image_id, objects in images:
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                osp.join(root, 'JPEGImages', f'{image_id}.jpg'), quality=90)
            ann = ET.Element('annotation')
            ET.SubElement(ann, 'filename').text = f'{image_id}.jpg'
            dims = ET.SubElement(ann, 'size')
            for key, value in (('width', size), ('height', size), ('depth', 3)):
                ET.SubElement(dims, key).text = str(value)
            for c, difficult in objects:
                obj = ET.SubElement(ann, 'object')
                ET.SubElement(obj, 'name').text = classes[c]
                ET.SubElement(obj, 'difficult').text = str(difficult)
                box = ET.SubElement(obj, 'bndbox')
                for key, value in (('xmin', 1), ('ymin', 1), ('xmax', size), ('ymax', size)):
                    ET.SubElement(box, key).text = str(value)
            ET.ElementTree(ann).write(osp.join(root, 'Annotations', f'{image_id}.xml'))
            positives = sorted({c for c, d in objects if not d})
            rows.append((image_id, positives, sorted({c for c, d in objects if d} - set(positives))))
        with open(osp.join(root, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
            f.writelines(f'{image_id}\n' for image_id, _ in images)
        out[split] = rows
    return out
