"""Judging a trained model: one streamed prediction pass over patches (``predictions``), the accuracy
reports, confusions and figures computed from it and ``evaluate(ocr, EvaluateConfig)`` (``reports``),
Grad-CAM (``gradcam``) and the figure drawing (``plots``).
"""
