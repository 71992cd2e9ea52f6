# A frozen ResNet-50 initialised from the student (or teacher) of a self-supervised checkpoint,
# for the protocols that train nothing on it (kNN, retrieval, low-shot SVMs): the backbone and
# preprocessing of the linear-evaluation model (resnet50_linear.py) without its classifier.
_base_ = './resnet50_linear.py'
model = dict(head=None)
