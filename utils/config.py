"""Every option of a network, a training run and an evaluation, with its default, in one place.

The scripts' flags are generated from these dataclasses, and ``KoOCR(...)`` / ``KoOCR.train(...)`` take
the same names, so an option is written once. Each dataclass checks its values when it is made (string
switches against what exists, numbers against ``RANGES``), so a bad option fails before any data is read,
with a ValueError that quotes the value and what is allowed.

It stays at ``utils/config.py``, not under ``utils/training/``: ``NetworkConfig`` serves building and
loading, ``EvaluateConfig`` the evaluation, and every script's parser reads it.
"""
import argparse
import dataclasses
import json
import os
from dataclasses import dataclass, field

from utils.data.hangul import CHARSET_NAMES
from utils.data.patches import KINDS

# The registry names of network/ (network.BACKBONES) and its poolings (network.layers.POOLINGS); utils may
# not import network, so they are listed here and tests/test_config.py keeps the lists equal.
NETWORKS = ('melnyk', 'fire', 'compact', 'densenet', 'VGG16', 'inception-resnet', 'mobilenet', 'efficient-net')
FC_LINKS = ('', 'GAP', 'GWAP', 'GWOAP')
OPTIMIZERS = ('sgd', 'adam', 'adabound')
LR_SCHEDULES = ('constant', 'cosine')
LOSSES = ('crossentropy', 'hybrid')  # utils/training/losses.py
# (lowest, highest, lowest excluded): None is no bound.
RANGES = {
    'image_size': (8, None, False), 'width': (0, None, True), 'refinement_t': (1, None, False),
    'patch_size': (1, None, False), 'epochs': (1, None, False), 'learning_rate': (0, None, True),
    'batch_size': (1, None, False), 'adversarial_ratio': (0, None, False), 'hybrid_weight': (0, None, False),
    'top_n': (1, None, False), 'class_activation_n': (1, None, False),
}

_TRUE = ('true', '1', 'yes', 'y', 't')
_FALSE = ('false', '0', 'no', 'n', 'f')


def str2bool(value):
    """argparse type for the original's ``--flag=true`` style: true/false, 1/0, yes/no (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'expected true or false (or 1/0, yes/no), got {value!r}')


def parse_kinds(kinds):
    """'printed,clova' (or a list) -> ['printed', 'clova']; '' -> [] (every kind). Unknown kinds are refused."""
    names = [kind.strip() for kind in (kinds.split(',') if isinstance(kinds, str) else kinds or ())]
    names = [kind for kind in names if kind]
    unknown = set(names) - set(KINDS)
    if unknown:
        raise ValueError(f'unknown data kinds {sorted(unknown)}; choose from {KINDS}')
    return names


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f'{name}={value!r}; choose from {allowed}')


def _check_ranges(config):
    for f in dataclasses.fields(config):
        if f.name not in RANGES:
            continue
        value, (low, high, open_low) = getattr(config, f.name), RANGES[f.name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f'{f.name}={value!r}: expected a number')
        if (low is not None and (value <= low if open_low else value < low)) or (high is not None and value > high):
            bound = f'above {low}' if open_low else f'at least {low}'
            raise ValueError(f'{f.name}={value!r}: must be {bound}' + (f' and at most {high}' if high else ''))


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
    adversarial_learning: bool = field(default=False, metadata={
        'help': 'a discriminator of printed vs handwriting-style features, its gradient reversed (training only)'})
    decoder: bool = field(default=False, metadata={
        'help': 'DenseRAN-style attention GRU decoder reading initial, medial, final in turn (split only)'})

    def __post_init__(self):
        _check_choice('network', self.network, NETWORKS)
        _check_choice('fc_link', self.fc_link, FC_LINKS)
        if self.decoder and (not self.split_components or self.iterative_refinement):
            raise ValueError('decoder=True reads jamo: it needs split_components=True and no iterative_refinement')
        # A charset file is read when the network is built; a loaded model carries its charset inside, so
        # the file it was built from need not exist any more.
        if not isinstance(self.charset, str) or not self.charset:
            raise ValueError(f'charset={self.charset!r}; choose from {CHARSET_NAMES} or name a charset file')
        _check_ranges(self)


@dataclass
class TrainConfig:
    data_path: str = field(default='./data', metadata={'help': 'training patches'})
    val_path: str = field(default='./val_data', metadata={'help': 'validation patches (held-out fonts)'})
    patch_size: int = field(default=10, metadata={'help': 'patches held in memory at once'})
    kinds: list = field(default='', metadata={'help': 'comma-separated data kinds to train on (default: all)'})
    epochs: int = field(default=50, metadata={'help': "last epoch; a resumed run that has done that many "
                                                      "trains that many more (the original's resume)"})
    learning_rate: float = field(default=0.001, metadata={'help': 'initial learning rate'})
    lr_schedule: str = field(default='constant', metadata={'help': "'constant' or 'cosine' over the epochs"})
    optimizer: str = field(default='adabound', metadata={'help': 'sgd, adam or adabound'})
    batch_size: int = field(default=32, metadata={'help': 'images per step'})
    loss: str = field(default='crossentropy', metadata={
        'help': "'crossentropy', or 'hybrid': cross-entropy plus a pairwise term against each image's most "
                "confused class (Kim, Choi & Lee, IJDAR 2016)"})
    hybrid_weight: float = field(default=0.5, metadata={'help': "weight of the hybrid loss's pairwise term"})
    exclude_syllables: str = field(default='', metadata={
        'help': "a UTF-8 file of syllables kept out of training (files/unseen_ksx1001.txt: the unseen-syllable "
                "test); '' trains on every syllable of the charset"})
    zip_weights: bool = field(default=False, metadata={'help': 'zip each epoch weights as weights_epoch_N.zip'})
    fit_discriminator: bool = field(default=False, metadata={
        'help': 'adversarial learning: fit the discriminator alone (its gradient not reversed into the '
                'backbone): a warm-up, and a probe of how writer-dependent the features are'})
    adversarial_ratio: float = field(default=0.15, metadata={
        'help': "adversarial learning: scale of the discriminator's reversed gradient in the backbone"})
    silent_mode: bool = field(default=False, metadata={'help': 'no progress output'})
    log_tensorboard: bool = field(default=True, metadata={'help': 'TensorBoard logs under logs/fit/'})
    log_wandb: bool = field(default=False, metadata={'help': 'log to Weights & Biases (needs wandb)'})
    setup_wandb: bool = field(default=False, metadata={'help': 'wandb.login() first'})
    log_dir: str = field(default='./logs', metadata={'help': 'weights, checkpoints and logs'})
    seed: int = field(default=0, metadata={'help': 'random seed'})

    def __post_init__(self):
        self.kinds = parse_kinds(self.kinds)
        _check_choice('optimizer', self.optimizer, OPTIMIZERS)
        _check_choice('lr_schedule', self.lr_schedule, LR_SCHEDULES)
        _check_choice('loss', self.loss, LOSSES)
        if self.exclude_syllables and not os.path.isfile(self.exclude_syllables):
            raise ValueError(f'exclude_syllables={self.exclude_syllables!r}: no such file (a UTF-8 list of '
                             f'syllables to keep out of training, e.g. files/unseen_ksx1001.txt)')
        _check_ranges(self)


@dataclass
class EvaluateConfig:
    data_path: str = field(default='./val_data', metadata={'help': 'patches to evaluate on'})
    train_data_path: str = field(default='./data', metadata={'help': 'patches for --show_augmentation'})
    patch_size: int = field(default=10, metadata={'help': 'patches held in memory at once'})
    kinds: list = field(default='', metadata={'help': 'comma-separated data kinds (default: all)'})
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

    def __post_init__(self):
        self.kinds = parse_kinds(self.kinds)
        _check_ranges(self)


def _flag_type(f):
    if f.type in (bool, 'bool'):
        return str2bool
    name = f.type if isinstance(f.type, str) else f.type.__name__
    return {'int': int, 'float': float}.get(name, str)


def add_arguments(parser, *configs):
    """One ``--name`` flag per field of the given dataclasses, typed from the field's type."""
    for config in configs:
        for f in dataclasses.fields(config):
            parser.add_argument(f'--{f.name}', type=_flag_type(f), default=f.default, help=f.metadata.get('help'))


def pick(config_class, values):
    """The fields of ``config_class`` found in ``values`` (a dict or argparse Namespace)."""
    values = vars(values) if isinstance(values, argparse.Namespace) else values
    return {f.name: values[f.name] for f in dataclasses.fields(config_class) if f.name in values}


def read_config_file(path, *config_classes):
    """The fields of the given dataclasses in a JSON file: a flat object of field names, or one written
    by a run (``train_state.json``, a shipped ``config.json``) with them under 'network' and 'train'.
    Unknown names are refused, naming the file."""
    from utils.io import read_json
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such config file')
    content = read_json(path, 'a KoOCR config')
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected a JSON object of options')
    names = {f.name for cls in config_classes for f in dataclasses.fields(cls)}
    sections = [content[key] for key in ('network', 'train') if isinstance(content.get(key), dict)]
    # A run's record keeps other facts beside its options (epochs done, the command): only its sections count.
    flat = {k: v for section in sections for k, v in section.items()} if sections else content
    unknown = set(flat) - names
    if unknown:
        raise ValueError(f'{path}: unknown options {sorted(unknown)}')
    return flat


def as_record(config):
    """A config as JSON-ready plain values (kinds as a list)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))
