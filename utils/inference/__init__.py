"""Reading characters with a trained model: a user's image prepared as the training glyphs were
(``preprocess``), exact top-n syllables from the outputs (``topn``), the LiteRT twin runner (``lite``) and
where the shipped model lives (``shipped``). ``BATCH_SIZE`` is the one batch size of inference.
"""

BATCH_SIZE = 256  # images per inference call (Keras predict, LiteRT, evaluation): larger is no faster on CPU
