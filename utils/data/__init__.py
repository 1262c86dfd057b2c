"""What the model learns from: the Hangul label encoding and charsets (``hangul``), glyphs drawn from fonts
(``render``, ``fonts``), the crawl of fonts and of AIHub's images into patch files (``crawl``, ``aihub``),
the patch format with its manifest and spool (``patches``), patches streamed as ``tf.data`` (``dataset``),
and the download of the original dataset and the Clova fonts (``download``). Nothing here knows a network.
"""
