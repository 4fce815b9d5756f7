"""Scoring what the router did against gold records: BFCL's AST call checks (bfcl_ast.py),
correctness and router metrics (metrics.py), confidence calibration (calibration.py).

Pure functions with no torch or plotting. They sit below `model` and `eval`, which both use them:
training and distillation score their held-out splits, evaluation reports on the same figures.
"""
