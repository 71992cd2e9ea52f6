from .accuracy import StudentTeacherAccuracy
from .knn import extract, knn_accuracy, pooled_features
from .knn_hook import KNNEvalHook
from .lowshot import low_shot_svm, low_shot_svm_multilabel, multilabel_ap, multilabel_targets, retrieval_metrics

__all__ = ['StudentTeacherAccuracy', 'extract', 'knn_accuracy', 'pooled_features', 'KNNEvalHook', 'low_shot_svm',
           'low_shot_svm_multilabel', 'multilabel_ap', 'multilabel_targets', 'retrieval_metrics']
