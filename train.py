"""Train a KoOCR network on patches (the seed's flags), e.g.

    python train.py --split_components=true --network=melnyk --image_size=96 --direct_map=true --epochs=10
    python train.py --learning_rate=0.00003 --optimizer=adabound --image_size=96 --weights=./logs/weights/ \\
        --fc_link=GWAP --batch_size=128 --epochs=2 --patch_size=20
"""
import argparse
import sys

from utils.config import NetworkConfig, TrainConfig, add_arguments, pick


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='', help='resume from a .keras/.h5 file or a directory holding one')
    add_arguments(parser, NetworkConfig, TrainConfig)
    return parser.parse_args(argv)


def given_network_options(args, argv):
    """The network flags to build with; when resuming, only those written on the command line (the
    loaded model keeps its own network, and KoOCR warns about the ones that differ from it)."""
    options = pick(NetworkConfig, args)
    if not args.weights:
        return options
    written = {arg[2:].split('=')[0] for arg in (sys.argv[1:] if argv is None else argv) if arg.startswith('--')}
    return {name: value for name, value in options.items() if name in written}


def main(argv=None):
    args = parse_args(argv)
    import model  # after parsing: --help stays fast
    ocr = model.KoOCR(weights=args.weights or None, **given_network_options(args, argv))
    if not args.silent_mode:
        ocr.model.summary()
    ocr.train(**pick(TrainConfig, args))


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError, NotImplementedError, RuntimeError) as e:
        sys.exit(f'train.py: {e}')
