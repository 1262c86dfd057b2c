"""Patches -> tf.data: stream ``patch_size`` patches at a time, shuffle across them, batch, prefetch."""
import numpy as np
import tensorflow as tf

from utils.data import hangul, patches


class Labeler:
    """Syllables -> the model's targets: (cho, jung, jong) in split mode, a charset index otherwise.

    ``outputs``: the model's output names when it has more than its heads (the steps of iterative refinement,
    'CHOSUNG_step1'): each gets the targets of the head its name starts with."""

    def __init__(self, split_components, charset, outputs=None):
        self.split_components = split_components
        self.charset = list(charset)
        self.index = {char: i for i, char in enumerate(self.charset)}
        self.names = list(hangul.output_sizes(split_components, len(self.charset)))
        self.outputs = list(outputs or self.names)
        self.head_of = {out: next((n for n in self.names if out == n or out.startswith(n + '_')), None)
                        for out in self.outputs}
        unknown = [out for out, head in self.head_of.items() if head is None]
        if unknown:
            raise ValueError(f'outputs {unknown} answer none of the heads {self.names}')

    def keep(self, labels):
        """Mask of the labels the model can name (the charset in use)."""
        return np.array([label in self.index for label in labels], dtype=bool)

    def targets(self, labels):
        """{output name: int32 (N,)} for labels that are all in the charset."""
        if self.split_components:
            jamo = hangul.split_labels(labels)
            heads = {name: jamo[:, i] for i, name in enumerate(self.names)}
        else:
            heads = {'output': np.array([self.index[label] for label in labels], dtype=np.int32)}
        return {out: heads[head] for out, head in self.head_of.items()}


class PatchDataset:
    """The patches of a folder as batches of (images float32 (B,S,S,1), {output: labels}).

    Every patch is read and checked once up front (errors name the file) to count the batches; training
    then holds only ``patch_size`` patches in memory at a time.
    """

    def __init__(self, folder, image_size, labeler, batch_size=128, patch_size=10, kinds=None,
                 shuffle=True, seed=0):
        self.paths = patches.list_patches(folder, kinds)
        if not self.paths:
            raise ValueError(f'{folder}: no patches (<kind>_<n>.pickle or .npz) of kinds {kinds or patches.KINDS}'
                             f'; make some with crawl_data.py or load_data.py')
        self.image_size, self.labeler, self.batch_size = image_size, labeler, batch_size
        self.patch_size, self.shuffle = max(1, patch_size), shuffle
        self.rng = np.random.default_rng(seed)
        self.count = sum(int(labeler.keep(self.read(path).labels).sum()) for path in self.paths)

    def read(self, path):
        return patches.read_patch(path, self.image_size)

    def examples(self):
        """Yield (images uint8, labels str, fonts, kinds) of each group of ``patch_size`` patches, shuffled."""
        order = self.rng.permutation(len(self.paths)) if self.shuffle else np.arange(len(self.paths))
        for start in range(0, len(order), self.patch_size):
            group = [self.paths[i] for i in order[start:start + self.patch_size]]
            loaded = [self.read(path) for path in group]
            images = np.concatenate([p.images for p in loaded])
            labels = np.concatenate([p.labels for p in loaded])
            fonts = np.concatenate([p.fonts if p.fonts is not None else np.full(len(p.labels), -1)
                                    for p in loaded])
            kinds = np.concatenate([[patches.patch_kind(path)] * len(p.labels) for path, p in zip(group, loaded)])
            keep = self.labeler.keep(labels)
            images, labels, fonts, kinds = images[keep], labels[keep], fonts[keep], kinds[keep]
            if self.shuffle:
                mix = self.rng.permutation(len(labels))
                images, labels, fonts, kinds = images[mix], labels[mix], fonts[mix], kinds[mix]
            yield images, labels, fonts, kinds

    def batches(self):
        """Full batches across patch groups (the rest carried into the next group), then the remainder."""
        images = np.zeros((0, self.image_size, self.image_size), np.uint8)
        labels = np.zeros((0,), '<U1')
        for new_images, new_labels, _, _ in self.examples():
            images, labels = np.concatenate([images, new_images]), np.concatenate([labels, new_labels])
            full = len(labels) // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                end = start + self.batch_size
                yield images[start:end, :, :, None], self.labeler.targets(labels[start:end])
            images, labels = images[full:], labels[full:]
        if len(labels):
            yield images[:, :, :, None], self.labeler.targets(labels)

    @property
    def steps(self):
        return int(np.ceil(self.count / self.batch_size))

    def as_tf(self):
        """A ``tf.data.Dataset`` of batches, with its length known (progress bars show it)."""
        size = self.image_size
        signature = (tf.TensorSpec((None, size, size, 1), tf.uint8),
                     {name: tf.TensorSpec((None,), tf.int32) for name in self.labeler.outputs})
        dataset = tf.data.Dataset.from_generator(self.batches, output_signature=signature)
        dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y))
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(self.steps))
        return dataset.prefetch(tf.data.AUTOTUNE)
