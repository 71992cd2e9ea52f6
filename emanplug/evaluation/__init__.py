from .accuracy import StudentTeacherAccuracy
from .knn import extract, knn_accuracy, nearest, pooled_features, retrieval_metrics
from .knn_hook import KNNEvalHook
from .lowshot import low_shot_draws, low_shot_svm, low_shot_svm_multilabel, multilabel_ap, multilabel_targets

__all__ = ['StudentTeacherAccuracy', 'extract', 'knn_accuracy', 'nearest', 'pooled_features', 'retrieval_metrics',
           'KNNEvalHook', 'low_shot_draws', 'low_shot_svm', 'low_shot_svm_multilabel', 'multilabel_ap',
           'multilabel_targets']
