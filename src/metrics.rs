//! Evaluation metrics: per-head (ROC-AUC, PR-AUC, log loss, NE, RCE, calibration) and per-feed (nDCG@k, precision@k, recall@k, MAP@k, MRR).
