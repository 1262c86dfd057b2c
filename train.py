"""Train a KoOCR network on patches (the original's flags), e.g.

    python train.py --split_components=true --network=melnyk --image_size=96 --direct_map=true --epochs=10
    python train.py --learning_rate=0.00003 --optimizer=adabound --image_size=96 --weights=./logs/weights/ \\
        --fc_link=GWAP --batch_size=128 --epochs=2 --patch_size=20
    python train.py --config=logs/train_state.json --epochs=20     # a recorded run again, flags overriding
"""
import argparse
import dataclasses
import sys

from utils.cli import reported
from utils.config import NetworkConfig, TrainConfig, add_arguments, pick, read_config_file


def parse_args(argv=None):
    """The flags; those of a ``--config`` file (TrainConfig/NetworkConfig fields as JSON: a flat object,
    or a run's train_state.json / a shipped config.json) are the defaults that written flags override.
    ``args.from_config`` names the options the file gave."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='', help='resume from a .keras/.h5 file or a directory holding one')
    parser.add_argument('--config', default='', help='a JSON file of options (e.g. a run\'s train_state.json); '
                                                     'flags override it')
    add_arguments(parser, NetworkConfig, TrainConfig)
    known, _ = parser.parse_known_args(argv)
    from_config = read_config_file(known.config, NetworkConfig, TrainConfig) if known.config else {}
    if isinstance(from_config.get('kinds'), list):
        from_config['kinds'] = ','.join(from_config['kinds'])
    parser.set_defaults(**from_config)
    args = parser.parse_args(argv)
    args.from_config = set(from_config)
    return args


def given_network_options(args, argv):
    """The network options to build with; when resuming, only those written on the command line or given
    by --config (the loaded model keeps its own network, and KoOCR warns about the ones that differ)."""
    options = pick(NetworkConfig, args)
    if not args.weights:
        return options
    written = {arg[2:].split('=')[0] for arg in (sys.argv[1:] if argv is None else argv) if arg.startswith('--')}
    return {name: value for name, value in options.items() if name in written | args.from_config}


def main(argv=None):
    args = parse_args(argv)
    train_config = TrainConfig(**pick(TrainConfig, args))  # a bad option fails before the model is built
    import model  # after parsing: --help stays fast
    ocr = model.KoOCR(weights=args.weights or None, **given_network_options(args, argv))
    if not args.silent_mode:
        ocr.model.summary()
    ocr.train(**dataclasses.asdict(train_config))
    return ocr


def cli():
    with reported((ValueError, FileNotFoundError, RuntimeError)):
        main()


if __name__ == '__main__':
    cli()
