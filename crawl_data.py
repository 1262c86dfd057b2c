"""Render Korean fonts (and, on request, the Clova handwriting fonts and AIHub images) into pickle patches.

    python crawl_data.py --image_size=64
    python crawl_data.py --AIHub=true --clova=true --image_size=96 --x_offset=8 --y_offset=8 --char_size=80
"""
import argparse
import os
import sys

from utils import crawl, fonts, hangul
from utils.cli import str2bool

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'files')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--font_path', default='./fonts',
                        help='folder of fonts; missing or empty: the Korean fonts installed on this machine')
    parser.add_argument('--AIHub_path', default='./AIhub')
    parser.add_argument('--pickle_path', default='./data')
    parser.add_argument('--val_path', default='./val_data')
    parser.add_argument('--val_ratio', type=float, default=.1, help='share of font families held out')
    parser.add_argument('--clova', type=str2bool, default=False, help='download the Clova handwriting fonts')
    parser.add_argument('--image_test', type=str2bool, default=False, help='write a contact sheet and stop')
    parser.add_argument('--image_size', type=int, default=96)
    parser.add_argument('--x_offset', type=int, default=None, help='seed placement; default from the seed table')
    parser.add_argument('--y_offset', type=int, default=None)
    parser.add_argument('--char_size', type=int, default=None)
    parser.add_argument('--AIHub', type=str2bool, default=False, help='convert the AIHub data at --AIHub_path')
    parser.add_argument('--pickle_size', type=int, default=5000, help='images per patch')
    parser.add_argument('--placement', choices=('center', 'seed'), default=None,
                        help="'center' (default) or 'seed' (offsets); any offset flag implies 'seed'")
    parser.add_argument('--charset', default='ksx1001', help="'ksx1001', 'all' or a UTF-8 file")
    parser.add_argument('--handwriting', action='append', default=[],
                        help='mark a family as handwriting-style (kind clova); repeatable')
    parser.add_argument('--seed', type=int, default=0, help='seed of the font split and the shuffle')
    return parser.parse_args(argv)


def placement_options(args):
    offsets = dict(x_offset=args.x_offset, y_offset=args.y_offset, char_size=args.char_size)
    placement = args.placement or ('seed' if any(v is not None for v in offsets.values()) else 'center')
    return dict(placement=placement, **offsets) if placement == 'seed' else dict(placement=placement)


def choose_font_files(font_path):
    files = fonts.font_files([font_path]) if os.path.isdir(font_path) else []
    if files:
        return files
    print(f'{font_path} holds no fonts: using the Korean fonts installed on this machine')
    return fonts.system_font_files()


def main(argv=None):
    args = parse_args(argv)
    charset = hangul.load_charset(args.charset)
    placement = placement_options(args)
    if args.clova:
        from utils.download import download_clova_fonts
        download_clova_fonts(os.path.join(FILES, 'clova_ttf_links.txt'), args.font_path)
    faces = fonts.korean_faces(choose_font_files(args.font_path))
    if args.AIHub:
        from utils.aihub import write_aihub_patches
        write_aihub_patches(args.AIHub_path, args.image_size, args.pickle_path, args.val_path,
                            args.val_ratio, args.pickle_size, args.seed)
    if not faces:
        if not args.AIHub:
            sys.exit('no Korean fonts found: put .ttf/.otf/.ttc files in --font_path or install fonts-nanum')
        return
    if args.image_test:
        path = crawl.contact_sheet(faces, '가각뷁힣을쐈', args.image_size, placement, 'image_test.png')
        print(f'wrote {path}: {len(faces)} fonts')
        return
    kinds = {face: face.kind(args.handwriting) for face in faces}
    crawl.crawl_fonts(faces, kinds, charset, args.image_size, args.pickle_path, args.val_path,
                      args.val_ratio, args.pickle_size, placement, args.seed)


if __name__ == '__main__':
    try:
        main()
    except (ValueError, OSError) as e:
        sys.exit(f'crawl_data.py: {e}')
