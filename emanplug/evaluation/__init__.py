from .knn import extract, knn_accuracy, pooled_features
from .knn_hook import KNNEvalHook

__all__ = ['extract', 'knn_accuracy', 'pooled_features', 'KNNEvalHook']
