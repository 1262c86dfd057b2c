"""Patches -> tf.data: stream ``patch_size`` patches at a time, shuffle across them, batch, prefetch."""
import numpy as np
import tensorflow as tf

from utils.data import hangul, patches
from utils.data.render import GlyphRenderer
from utils.io import BUNDLED_FONT


class Labeler:
    """Syllables -> the model's targets: (cho, jung, jong) in split mode, a charset index otherwise.
    ``exclude``: syllables dropped like those outside the charset (kept out of training).

    ``outputs``: the model's output names when it has more than its heads (the steps of iterative refinement,
    'CHOSUNG_step1'): each gets the targets of the head its name starts with. The discriminator's output
    (adversarial learning, ``hangul.DOMAIN_OUTPUT``) gets 1 for a handwriting-style image, 0 for a printed one."""

    def __init__(self, split_components, charset, outputs=None, exclude=()):
        self.split_components = split_components
        self.charset = list(charset)
        self.index = {char: i for i, char in enumerate(self.charset)}
        self.exclude = frozenset(exclude)
        self.names = list(hangul.output_sizes(split_components, len(self.charset)))
        self.outputs = list(outputs or self.names)
        self.adversarial = hangul.DOMAIN_OUTPUT in self.outputs
        self.head_of = {out: next((n for n in self.names if out == n or out.startswith(n + '_')), None)
                        for out in self.outputs if out != hangul.DOMAIN_OUTPUT}
        unknown = [out for out, head in self.head_of.items() if head is None]
        if unknown:
            raise ValueError(f'outputs {unknown} answer none of the heads {self.names}')

    def keep(self, labels):
        """Mask of the labels the model can name (the charset in use) and that are not excluded."""
        return np.array([label in self.index and label not in self.exclude for label in labels], dtype=bool)

    def targets(self, labels, kinds=None):
        """{output name: int32 (N,)} for labels that are all in the charset; the discriminator's float32
        (N, 1) from the images' ``kinds``."""
        if self.split_components:
            jamo = hangul.split_labels(labels)
            heads = {name: jamo[:, i] for i, name in enumerate(self.names)}
        else:
            heads = {'output': np.array([self.index[label] for label in labels], dtype=np.int32)}
        found = {out: heads[head] for out, head in self.head_of.items()}
        if self.adversarial:
            if kinds is None:
                raise ValueError('the discriminator\'s targets need the kind of every image')
            found[hangul.DOMAIN_OUTPUT] = np.isin(kinds, patches.HANDWRITING_KINDS).astype(np.float32)[:, None]
        return found


class PrintedPairs:
    """Printed guidance for adversarial learning: beside every handwriting-style image of a batch, a
    printed render of the same syllable in one canonical face (the bundled OFL Gothic, placed as the crawl
    places glyphs), so that the discriminator compares the two styles of the same class."""

    def __init__(self, image_size, font=BUNDLED_FONT):
        self.renderer = GlyphRenderer(font, image_size)
        self.cache = {}

    def render(self, char):
        if char not in self.cache:
            self.cache[char] = self.renderer.render(char)
        return self.cache[char]

    def add(self, images, labels, kinds):
        """(images, labels, kinds) with the printed twins of the handwriting-style rows appended
        (syllables the canonical face lacks get none)."""
        renders = [(self.render(char), char) for char in labels[np.isin(kinds, patches.HANDWRITING_KINDS)]]
        renders = [(image, char) for image, char in renders if image is not None]
        if not renders:
            return images, labels, kinds
        twins = np.stack([image for image, _ in renders])
        return (np.concatenate([images, twins]), np.concatenate([labels, [char for _, char in renders]]),
                np.concatenate([kinds, ['printed'] * len(renders)]))


class PatchDataset:
    """The patches of a folder as batches of (images float32 (B,S,S,1), {output: labels}).

    Every patch is read and checked once up front (errors name the file) to count the batches; training
    then holds only ``patch_size`` patches in memory at a time. ``printed_pairs``: a ``PrintedPairs`` that
    adds the printed twins of each batch's handwriting-style images (adversarial learning).
    """

    def __init__(self, folder, image_size, labeler, batch_size=128, patch_size=10, kinds=None,
                 shuffle=True, seed=0, printed_pairs=None):
        self.paths = patches.list_patches(folder, kinds)
        if not self.paths:
            raise ValueError(f'{folder}: no patches (<kind>_<n>.pickle or .npz) of kinds {kinds or patches.KINDS}'
                             f'; make some with crawl_data.py or load_data.py')
        self.image_size, self.labeler, self.batch_size = image_size, labeler, batch_size
        self.patch_size, self.shuffle, self.printed_pairs = max(1, patch_size), shuffle, printed_pairs
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
        labels, kinds = np.zeros((0,), '<U1'), np.zeros((0,), '<U16')
        for new_images, new_labels, _, new_kinds in self.examples():
            images, labels = np.concatenate([images, new_images]), np.concatenate([labels, new_labels])
            kinds = np.concatenate([kinds, new_kinds])
            full = len(labels) // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                yield self.batch(*(part[start:start + self.batch_size] for part in (images, labels, kinds)))
            images, labels, kinds = images[full:], labels[full:], kinds[full:]
        if len(labels):
            yield self.batch(images, labels, kinds)

    def batch(self, images, labels, kinds):
        if self.printed_pairs is not None:
            images, labels, kinds = self.printed_pairs.add(images, labels, kinds)
        return images[:, :, :, None], self.labeler.targets(labels, kinds)

    @property
    def steps(self):
        return int(np.ceil(self.count / self.batch_size))

    def as_tf(self):
        """A ``tf.data.Dataset`` of batches, with its length known (progress bars show it)."""
        size = self.image_size
        targets = {name: tf.TensorSpec((None,), tf.int32) for name in self.labeler.outputs}
        if self.labeler.adversarial:
            targets[hangul.DOMAIN_OUTPUT] = tf.TensorSpec((None, 1), tf.float32)
        signature = (tf.TensorSpec((None, size, size, 1), tf.uint8), targets)
        dataset = tf.data.Dataset.from_generator(self.batches, output_signature=signature)
        dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y))
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(self.steps))
        return dataset.prefetch(tf.data.AUTOTUNE)
