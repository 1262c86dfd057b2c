"""The original's other backbones, from ``keras.applications`` with random weights and our 1-channel input."""
import keras

APPLICATIONS = {
    'VGG16': (keras.applications.VGG16, 32),
    'inception-resnet': (keras.applications.InceptionResNetV2, 75),
    'mobilenet': (keras.applications.MobileNetV2, 32),
    'efficient-net': (keras.applications.EfficientNetB0, 32),
}


def builder(name):
    """A backbone builder for one application; its feature map is the application's last layer."""
    application, min_size = APPLICATIONS[name]

    def build(x, width=1.0):
        if width != 1.0:
            raise ValueError(f'network={name!r} has a fixed width; --width={width} applies to compact, fire '
                             f'and melnyk')
        if x.shape[1] < min_size:
            raise ValueError(f'network={name!r} needs images of at least {min_size} px, got {x.shape[1]}')
        base = application(include_top=False, weights=None, input_shape=tuple(x.shape[1:]))
        base.name = name.replace('-', '_')
        if name == 'efficient-net':
            # EfficientNetB0 always rescales by 1/255 (Keras 3 has no include_preprocessing for B0-B7);
            # our input is already ink = 1, so keep its scale.
            for layer in base.layers:
                if isinstance(layer, keras.layers.Rescaling):
                    layer.scale = 1.0
        return base(x)
    return build
