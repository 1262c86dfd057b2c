"""The prediction pass of an evaluation: one stream of a dataset through the model, recording each image's
truth, top-n answers and jamo argmaxes, so that every report is computed from that record and the model
reads every image once. Training's held-out accuracy (``callbacks.SyllableAccuracy``) runs the same pass.
"""
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
from tqdm import tqdm

from utils.data import hangul, patches
from utils.inference import BATCH_SIZE
from utils.inference.topn import top_n_syllables


@dataclass
class Predictions:
    """What one pass of the model over a dataset answered, image by image, in the dataset's order."""
    truth: np.ndarray                   # int (N,): charset index of the label
    top: np.ndarray                     # int (N, n): charset indices, best first
    kinds: np.ndarray                   # str (N,): data kind of the patch
    fonts: np.ndarray                   # int (N,): manifest font_id, -1 when unknown
    jamo_truth: Optional[np.ndarray]    # int (N, 3) in split mode
    jamo_pred: Optional[np.ndarray]     # int (N, 3): each jamo head's argmax
    seconds: float                      # time in model.predict and top-n ranking

    @property
    def correct(self):
        return self.top[:, 0] == self.truth

    @property
    def in_top(self):
        return (self.top == self.truth[:, None]).any(axis=1)

    def kind_names(self):
        return [kind for kind in patches.KINDS if (self.kinds == kind).any()]


def predict_dataset(model, charset, dataset, top_n=5, progress=True):
    """Stream a ``PatchDataset`` through a Keras model in batches of ``BATCH_SIZE``; a ``Predictions``
    record. ``charset``: the syllables the model names, in output order."""
    index = {char: i for i, char in enumerate(charset)}
    split = dataset.labeler.split_components
    parts = {key: [] for key in ('truth', 'top', 'kinds', 'fonts', 'jamo_truth', 'jamo_pred')}
    seconds = 0.0
    with tqdm(total=dataset.count, desc='evaluate', unit='img', disable=not progress) as bar:
        for images, labels, fonts, kinds in dataset.examples():
            started = time.perf_counter()
            outputs = model.predict(images[..., None].astype(np.float32), batch_size=BATCH_SIZE, verbose=0)
            top, _ = top_n_syllables(outputs, charset, top_n)
            seconds += time.perf_counter() - started
            parts['truth'].append(np.array([index[label] for label in labels], dtype=np.int32))
            parts['top'].append(top.astype(np.int32))
            parts['kinds'].append(kinds)
            parts['fonts'].append(fonts.astype(np.int32))
            if split:
                parts['jamo_truth'].append(hangul.split_labels(labels))
                parts['jamo_pred'].append(np.stack([np.argmax(outputs[name], axis=1)
                                                    for name in hangul.COMPONENTS], axis=1))
            bar.update(len(labels))
    joined = {key: np.concatenate(value) if value else None for key, value in parts.items()}
    if joined['truth'] is None:
        raise ValueError('no image in the data has a label in the model\'s charset')
    return Predictions(seconds=seconds, **joined)


def gather_images(dataset, positions):
    """{position: image} for positions in the dataset's (unshuffled) order; reads patches, predicts nothing."""
    wanted, found, offset = sorted(set(positions)), {}, 0
    if not wanted:
        return found
    for images, _, _, _ in dataset.examples():
        for position in wanted:
            if offset <= position < offset + len(images):
                found[position] = images[position - offset]
        offset += len(images)
        if offset > wanted[-1]:
            break
    return found
