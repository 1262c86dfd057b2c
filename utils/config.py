"""Every option of a network and of a training run, with its default, in one place.

``train.py``'s flags are generated from these dataclasses, and ``KoOCR(...)`` / ``KoOCR.train(...)`` take
the same names, so an option is written once.
"""
import argparse
import dataclasses
from dataclasses import dataclass, field

from utils.cli import str2bool


@dataclass
class NetworkConfig:
    split_components: bool = field(default=True, metadata={'help': 'jamo outputs (True) or one softmax'})
    network: str = field(default='melnyk', metadata={'help': 'backbone: melnyk, fire, compact, VGG16, ...'})
    image_size: int = field(default=96, metadata={'help': 'input side in pixels (crawl_data.py default: 96)'})
    direct_map: bool = field(default=False, metadata={'help': 'stack 8 directional gradient maps on the input'})
    fc_link: str = field(default='GWAP', metadata={'help': "'' (flatten), GAP, GWAP or GWOAP"})
    data_augmentation: bool = field(default=False, metadata={'help': 'augmentation layer (training only)'})
    charset: str = field(default='ksx1001', metadata={'help': "'ksx1001', 'all' or a UTF-8 charset file"})
    width: float = field(default=1.0, metadata={'help': 'width multiplier of the backbone'})
    iterative_refinement: bool = field(default=False, metadata={'help': 'attention+GRU refinement decoders'})
    refinement_t: int = field(default=4, metadata={'help': 'refinement steps'})
    adversarial_learning: bool = field(default=False, metadata={'help': 'printed-guided adversarial features'})


@dataclass
class TrainConfig:
    data_path: str = field(default='./data', metadata={'help': 'training patches'})
    val_path: str = field(default='./val_data', metadata={'help': 'validation patches (held-out fonts)'})
    patch_size: int = field(default=10, metadata={'help': 'patches held in memory at once'})
    kinds: str = field(default='', metadata={'help': 'comma-separated data kinds to train on (default: all)'})
    epochs: int = field(default=50, metadata={'help': "last epoch; a resumed run that has done that many "
                                                      "trains that many more (the seed's resume)"})
    learning_rate: float = field(default=0.001, metadata={'help': 'initial learning rate'})
    lr_schedule: str = field(default='constant', metadata={'help': "'constant' or 'cosine' over the epochs"})
    optimizer: str = field(default='adabound', metadata={'help': 'sgd, adam or adabound'})
    batch_size: int = field(default=32, metadata={'help': 'images per step'})
    zip_weights: bool = field(default=False, metadata={'help': 'zip each epoch weights as weights_epoch_N.zip'})
    fit_discriminator: bool = field(default=False, metadata={'help': 'train the discriminator (adversarial)'})
    adversarial_ratio: float = field(default=0.15, metadata={'help': 'weight of the adversarial loss'})
    silent_mode: bool = field(default=False, metadata={'help': 'no progress output'})
    log_tensorboard: bool = field(default=True, metadata={'help': 'TensorBoard logs under logs/fit/'})
    log_wandb: bool = field(default=False, metadata={'help': 'log to Weights & Biases (needs wandb)'})
    setup_wandb: bool = field(default=False, metadata={'help': 'wandb.login() first'})
    log_dir: str = field(default='./logs', metadata={'help': 'weights, checkpoints and logs'})
    seed: int = field(default=0, metadata={'help': 'random seed'})


@dataclass
class EvaluateConfig:
    data_path: str = field(default='./val_data', metadata={'help': 'patches to evaluate on'})
    train_data_path: str = field(default='./data', metadata={'help': 'patches for --show_augmentation'})
    patch_size: int = field(default=10, metadata={'help': 'patches held in memory at once'})
    kinds: str = field(default='', metadata={'help': 'comma-separated data kinds (default: all)'})
    accuracy: bool = field(default=True, metadata={'help': 'top-1/top-n accuracy, misread examples'})
    confusion_matrix: bool = field(default=False, metadata={
        'help': 'jamo confusion matrices (split mode) or the most confused pairs (complete mode)'})
    class_activation: bool = field(default=False, metadata={'help': 'Grad-CAM figures'})
    class_activation_n: int = field(default=10, metadata={'help': 'images per Grad-CAM figure'})
    show_augmentation: bool = field(default=False, metadata={'help': "training images through the "
                                                                     "model's augmentation layer"})
    top_n: int = field(default=5, metadata={'help': 'n of the top-n accuracy'})
    out: str = field(default='', metadata={'help': 'folder for figures and metrics.json (default: '
                                                   'pretrained/NAME_evaluation, else <weights dir>/evaluation)'})


def add_arguments(parser, *configs):
    """One ``--name`` flag per field of the given dataclasses, typed from the default."""
    for config in configs:
        for f in dataclasses.fields(config):
            kind = str2bool if f.type in (bool, 'bool') else {'int': int, 'float': float}.get(
                f.type if isinstance(f.type, str) else f.type.__name__, str)
            parser.add_argument(f'--{f.name}', type=kind, default=f.default, help=f.metadata.get('help'))


def pick(config_class, values):
    """The fields of ``config_class`` found in ``values`` (a dict or argparse Namespace)."""
    values = vars(values) if isinstance(values, argparse.Namespace) else values
    return {f.name: values[f.name] for f in dataclasses.fields(config_class) if f.name in values}
