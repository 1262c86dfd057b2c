"""Mix a fine-tuned model with the model its fine-tune started from, in weight space (WiSE-FT: Wortsman
et al., CVPR 2022): ``(1 - fraction) * start + fraction * tuned``. A fine-tune that learnt new styles
(outline, ultra-heavy) can forget a little of what its start read best; the mix keeps both.

    python interpolate.py --start ./init/model.keras --tuned ./logs/best.keras --output ./mixed/model.keras

Both must be KoOCR models of one network (same layers and shapes); the output keeps the tuned model's
configuration and loads with ``KoOCR(weights=...)``.
"""
import argparse

from utils.cli import reported


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--start', required=True, help='the model the fine-tune started from (a file, or default)')
    parser.add_argument('--tuned', required=True, help='the fine-tuned model (a file)')
    parser.add_argument('--fraction', type=float, default=0.5, help="the tuned model's share (0: start, 1: tuned)")
    parser.add_argument('--output', required=True, help='where to write the mix (.keras)')
    args = parser.parse_args(argv)
    if not 0.0 <= args.fraction <= 1.0:
        parser.error(f'--fraction must be between 0 and 1, got {args.fraction}')
    if not args.output.endswith('.keras'):
        parser.error(f'--output must be a .keras file, got {args.output}')
    return args


def main(argv=None):
    args = parse_args(argv)
    import model
    from network.adversarial import inference_model
    from utils.training.interpolation import interpolated
    start = model.KoOCR(weights=args.start, runtime='keras')
    tuned = model.KoOCR(weights=args.tuned, runtime='keras')
    served = inference_model(tuned.model)  # a checkpoint's discriminator is no part of the mix
    mixed = interpolated(inference_model(start.model).get_weights(), served.get_weights(), args.fraction,
                         names=(start.weights_path, tuned.weights_path))
    served.set_weights(mixed)
    tuned.save(args.output)
    print(f'interpolate.py: {args.output}: {1 - args.fraction:g} × {start.weights_path} + '
          f'{args.fraction:g} × {tuned.weights_path}')


def cli():
    with reported((ValueError, FileNotFoundError)):
        main()


if __name__ == '__main__':
    cli()
