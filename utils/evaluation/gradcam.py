"""Grad-CAM: where in the image the network looked for each output head.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization",
2017. A GradientTape over the ``features`` layer (the backbone's last feature map), one map per head:
the three jamo softmaxes of a split model, or ``output`` of a complete one.
"""
import keras
import numpy as np
import tensorflow as tf
from keras import ops

# The backbone's last feature map, named so by network.build_model (utils may not import network;
# tests/test_imports.py keeps the two names equal).
FEATURES_LAYER = 'features'


def grad_cam(model, images, classes=None):
    """Heat maps {head: float32 (N, H, W) in [0, 1]} at the images' size, one per output head.

    Args:
        model: a KoOCR Keras model (a ``features`` layer, Dense softmax heads).
        images: (N, H, W) or (N, H, W, 1), ink dark on white, as the model takes them.
        classes: {head: int (N,)} the class each map explains; by default each head's prediction.
    """
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[..., None]
    heads = {name: model.get_layer(name) for name in model.output}
    for name, layer in heads.items():
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f'output {name!r} is a {type(layer).__name__}; Grad-CAM expects a Dense head')
    probe = keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output,
                                       {name: layer.input for name, layer in heads.items()}])
    with tf.GradientTape(persistent=True) as tape:
        features, head_inputs = probe(tf.convert_to_tensor(images), training=False)
        scores = {}
        for name, layer in heads.items():
            # The class score before the softmax, as the paper asks: a confident softmax saturates and
            # its gradient vanishes.
            logits = ops.matmul(head_inputs[name], layer.kernel) + layer.bias
            chosen = classes[name] if classes is not None else ops.argmax(logits, axis=-1)
            scores[name] = tf.gather(logits, tf.cast(chosen, tf.int32), batch_dims=1)
    maps = {}
    for name, score in scores.items():
        # Each image's score depends on its own features only (inference mode), so the gradient of the
        # batch's scores gives every image its own gradient.
        gradients = tape.gradient(score, features)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
        cam = cam / tf.maximum(tf.reduce_max(cam, axis=(1, 2, 3), keepdims=True), 1e-12)
        maps[name] = tf.image.resize(cam, images.shape[1:3], method='bilinear')[..., 0].numpy()
    del tape
    return maps
