from .accuracy import StudentTeacherAccuracy
from .knn import extract, knn_accuracy, pooled_features
from .knn_hook import KNNEvalHook

__all__ = ['StudentTeacherAccuracy', 'extract', 'knn_accuracy', 'pooled_features', 'KNNEvalHook']
