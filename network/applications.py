"""The seed's other backbones, from ``keras.applications`` with random weights and our 1-channel input."""
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
        if x.shape[1] < min_size:
            raise ValueError(f'network={name!r} needs images of at least {min_size} px, got {x.shape[1]}')
        kwargs = {'include_preprocessing': False} if name == 'efficient-net' else {}
        base = application(include_top=False, weights=None, input_shape=tuple(x.shape[1:]), **kwargs)
        base.name = name.replace('-', '_')
        return base(x)
    return build
