"""Fine-tuning a compressed network under the original's supervision, and adaptive weight pruning.

``distill``: the student learns the teacher's output distributions (every jamo head, the "global supervision"
of Xiao et al.'s GSLRE: the whole model's outputs, not the replaced layer's own) beside the labels. Both run
in inference mode: batch norm keeps the teacher's statistics, and both see the same images.
``prune``: per-layer magnitude thresholds (each layer's own quantile, so small layers are not emptied
while large ones keep their tail: the adaptive drop weight of the same paper), the pruned weights held at zero
through every later update.
"""
import keras
import numpy as np
import tensorflow as tf

PRUNABLE = (keras.layers.Conv2D, keras.layers.Dense)


def leaf_layers(model):
    """The model's layers, those of nested models (a low-rank pair) in their place."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def distill(student, teacher, batches, steps, learning_rate=3e-4, label_weight=0.5, masks=None):
    """``steps`` Adam steps on ``batches`` ((images, {output: labels}) from a tf.data pipeline, repeated as
    needed): cross-entropy to the teacher's probabilities plus ``label_weight`` × cross-entropy to the labels,
    summed over the outputs. ``masks`` ([(kernel variable, 0/1 array)]) keep pruned weights at zero.
    Returns the mean loss of the last 20 steps."""
    optimizer = keras.optimizers.Adam(learning_rate)
    names = list(teacher.output_names)
    held = [(variable, tf.constant(mask, variable.dtype)) for variable, mask in masks or ()]

    @tf.function
    def step(images, labels):
        soft = teacher(images, training=False)
        with tf.GradientTape() as tape:
            guess = student(images, training=False)
            loss = 0.0
            for name in names:
                predicted = tf.clip_by_value(guess[name], 1e-7, 1.0)
                loss += tf.reduce_mean(-tf.reduce_sum(soft[name] * tf.math.log(predicted), axis=-1))
                loss += label_weight * tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(labels[name], predicted))
        optimizer.apply_gradients(zip(tape.gradient(loss, student.trainable_variables),
                                      student.trainable_variables))
        for variable, mask in held:
            variable.assign(variable * mask)
        return loss

    losses = []
    for images, labels in batches.repeat().take(steps):
        losses.append(float(step(images, labels)))
    return float(np.mean(losses[-20:])) if losses else float('nan')


def prune_masks(model, sparsity, minimum_size=1000):
    """[(kernel variable, mask)] zeroing the ``sparsity`` fraction of smallest-magnitude weights of each
    convolution and dense kernel of at least ``minimum_size`` weights, each layer at its own threshold."""
    masks = []
    for layer in leaf_layers(model):
        if isinstance(layer, PRUNABLE) and int(np.prod(layer.kernel.shape)) >= minimum_size:
            weights = np.abs(np.asarray(layer.kernel))
            threshold = np.quantile(weights, sparsity)
            masks.append((layer.kernel, (weights > threshold).astype(np.float32)))
    return masks


def apply_masks(masks):
    for variable, mask in masks:
        variable.assign(np.asarray(variable) * mask)


def sparsity(model, minimum_size=1000):
    """The fraction of exact zeros in the prunable kernels (those ``prune_masks`` would touch)."""
    zeros = total = 0
    for layer in leaf_layers(model):
        if isinstance(layer, PRUNABLE) and int(np.prod(layer.kernel.shape)) >= minimum_size:
            kernel = np.asarray(layer.kernel)
            zeros, total = zeros + int((kernel == 0).sum()), total + kernel.size
    return zeros / max(total, 1)
