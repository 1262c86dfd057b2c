"""Low-rank expansion of 3×3 convolutions (after Xiao et al., Pattern Recognition 2017, who follow Jaderberg et
al. and Tai et al.): a k×k convolution becomes a k×1 convolution to ``rank`` channels then a 1×k one, the pair
started from the SVD of the kernel, and the layers around it kept as they were. The pair is a plain Keras
``Sequential`` under the old layer's name, so the model still saves and loads without custom objects."""
import keras
import numpy as np


def split_kernel(kernel, rank):
    """A (k, k, in, out) kernel -> ((k, 1, in, rank), (1, k, rank, out)) whose composition is the best rank-
    ``rank`` approximation of the kernel seen as a (k·in) × (k·out) matrix."""
    k, _, channels_in, channels_out = kernel.shape
    matrix = kernel.transpose(0, 2, 1, 3).reshape(k * channels_in, k * channels_out)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    root = np.sqrt(s[:rank])
    vertical = (u[:, :rank] * root).reshape(k, channels_in, rank)[:, None]            # (k, 1, in, rank)
    horizontal = (root[:, None] * vt[:rank]).reshape(rank, k, channels_out)           # (rank, k, out)
    return vertical.astype(kernel.dtype), horizontal.transpose(1, 0, 2)[None].astype(kernel.dtype)


def rank_for(kernel, energy):
    """The smallest rank keeping ``energy`` of the kernel's squared singular values, at most the rank below
    which the pair has fewer parameters than the kernel."""
    k, _, channels_in, channels_out = kernel.shape
    singular = np.linalg.svd(kernel.transpose(0, 2, 1, 3).reshape(k * channels_in, k * channels_out),
                             compute_uv=False)
    kept = np.cumsum(singular ** 2) / np.sum(singular ** 2)
    rank = min(int(np.searchsorted(kept, energy) + 1), len(singular))  # rounding can leave kept[-1] < 1
    cheaper = (k * channels_in * channels_out) // (channels_in + channels_out)  # k·r·(in+out) < k²·in·out
    return max(1, min(rank, cheaper - 1))


def expandable(layer):
    """A square, stride-1 convolution of more than one input channel, without dilation or groups."""
    return (type(layer) is keras.layers.Conv2D and layer.kernel_size[0] == layer.kernel_size[1] > 1
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1) and layer.groups == 1
            and layer.kernel.shape[2] > 1)


def low_rank_pair(layer, rank):
    """The (k×1 to ``rank``, 1×k) pair that replaces ``layer``, its weights from the kernel's SVD."""
    k = layer.kernel_size[0]
    pair = keras.Sequential([
        keras.layers.Conv2D(rank, (k, 1), padding=layer.padding, use_bias=False, name=f'{layer.name}_v'),
        keras.layers.Conv2D(layer.filters, (1, k), padding=layer.padding, use_bias=layer.use_bias,
                            activation=layer.activation, name=f'{layer.name}_h'),
    ], name=layer.name)
    pair.build((None, None, None, layer.kernel.shape[2]))
    vertical, horizontal = split_kernel(np.asarray(layer.kernel), rank)
    pair.layers[0].set_weights([vertical])
    pair.layers[1].set_weights([horizontal] + ([np.asarray(layer.bias)] if layer.use_bias else []))
    return pair


def expand(model, ranks):
    """A copy of ``model`` with each layer named in ``ranks`` ({name: rank}) replaced by its low-rank pair;
    every other layer keeps its weights."""
    pairs = {name: low_rank_pair(model.get_layer(name), rank) for name, rank in ranks.items()}

    def clone(layer):
        return pairs.get(layer.name) or layer.__class__.from_config(layer.get_config())

    expanded = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name not in pairs and layer.weights:
            expanded.get_layer(layer.name).set_weights(layer.get_weights())
    return expanded
