"""Render Korean fonts (and, on request, the Clova handwriting fonts and AIHub images) into pickle patches.

    python crawl_data.py --image_size=64
    python crawl_data.py --AIHub=true --clova=true --image_size=96 --x_offset=8 --y_offset=8 --char_size=80
"""
import argparse
import os
import sys

from utils.cli import reported
from utils.config import str2bool
from utils.data import crawl, fonts, hangul
from utils.data.aihub import convert_aihub, write_aihub_patches
from utils.data.download import (DownloadError, aihub_by_hand, clova_font_paths, download_clova_fonts,
                                 fetch_aihub)
from utils.data.render import PLACEMENT_ALIASES

CLOVA_URLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'files', 'clova_ttf_links.txt')
FONT_KINDS = ('printed', 'clova')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--font_path', default='./fonts',
                        help='folder of fonts; when it holds none but the Clova downloads, the Korean fonts '
                             'installed on this machine are used too')
    parser.add_argument('--AIHub_path', default='./AIhub')
    parser.add_argument('--pickle_path', default='./data',
                        help='training patches; a crawl replaces the patches of the kinds it writes')
    parser.add_argument('--val_path', default='./val_data')
    parser.add_argument('--val_ratio', type=float, default=.1,
                        help='share of font families (and of AIHub images) held out for validation')
    parser.add_argument('--clova', type=str2bool, default=False, help='download the Clova handwriting fonts')
    parser.add_argument('--image_test', type=str2bool, default=False, help='write a contact sheet and stop')
    parser.add_argument('--image_size', type=int, default=96)
    parser.add_argument('--x_offset', type=int, default=None,
                        help="legacy placement; default from the original's table")
    parser.add_argument('--y_offset', type=int, default=None)
    parser.add_argument('--char_size', type=int, default=None)
    parser.add_argument('--AIHub', type=str2bool, default=False,
                        help='download what is missing of the AIHub data into --AIHub_path, then convert it')
    parser.add_argument('--AIHub_url', default=None,
                        help='base URL of a mirror serving the AIHub files (default: Google Drive)')
    parser.add_argument('--pickle_size', type=int, default=5000, help='images per patch')
    parser.add_argument('--placement', choices=('center', 'legacy', 'seed'), default=None,
                        help="'center' (default) or 'legacy' (the original's offsets; 'seed' is its old name); "
                             "any offset flag implies 'legacy'")
    parser.add_argument('--charset', default='ksx1001', help="'ksx1001', 'all' or a UTF-8 file")
    parser.add_argument('--handwriting', action='append', default=[],
                        help='mark a family as handwriting-style (kind clova); repeatable')
    parser.add_argument('--seed', type=int, default=0, help='seed of the font split and the shuffle')
    args = parser.parse_args(argv)
    if args.image_size < 8:
        parser.error(f'--image_size={args.image_size}: expected at least 8 (pixels)')
    for flag in ('x_offset', 'y_offset'):
        value = getattr(args, flag)
        if value is not None and not 0 <= value < args.image_size:
            parser.error(f'--{flag}={value}: expected 0 to {args.image_size - 1} for --image_size={args.image_size}')
    if args.char_size is not None and not 1 <= args.char_size <= args.image_size:
        parser.error(f'--char_size={args.char_size}: expected 1 to {args.image_size} for '
                     f'--image_size={args.image_size}')
    if not 0 <= args.val_ratio < 1:
        parser.error(f'--val_ratio={args.val_ratio}: expected a share in [0, 1)')
    if args.pickle_size < 1:
        parser.error(f'--pickle_size={args.pickle_size}: expected at least 1')
    return args


def placement_options(args):
    offsets = dict(x_offset=args.x_offset, y_offset=args.y_offset, char_size=args.char_size)
    placement = args.placement or ('legacy' if any(v is not None for v in offsets.values()) else 'center')
    placement = PLACEMENT_ALIASES.get(placement, placement)
    return dict(placement=placement, **offsets) if placement == 'legacy' else dict(placement=placement)


def choose_font_files(font_path, clova_paths):
    """The fonts in ``font_path``, plus the machine's Korean fonts when it holds none but Clova downloads
    (so ``--clova=true`` adds handwriting to the installed fonts instead of replacing them)."""
    found = fonts.font_files([font_path]) if os.path.exists(font_path) else []
    clova = {os.path.abspath(p) for p in clova_paths}
    if any(os.path.abspath(p) not in clova for p in found):
        return found
    print(f'{font_path} holds no fonts of its own: using the Korean fonts installed on this machine')
    return sorted(set(fonts.system_font_files()) | set(found))


def fetched_aihub(args):
    """--AIHub_path after downloading what it lacks; a part that cannot be fetched is said, once, with what
    to download by hand (and conversion goes on with the parts there, or fails naming them all)."""
    failed = fetch_aihub(args.AIHub_path, args.AIHub_url)
    if failed:
        reasons = '; '.join(f'{name}: {getattr(e, "reason", e)}' for name, e in failed.items())
        print(f'crawl_data.py: could not download AIHub parts ({reasons}); '
              f'{aihub_by_hand(args.AIHub_path, failed)}', file=sys.stderr)
    return args.AIHub_path


def main(argv=None):
    args = parse_args(argv)
    charset = hangul.load_charset(args.charset)
    placement = placement_options(args)
    aihub_kinds = ()
    if args.AIHub and not args.image_test:  # a missing folder or labels fail now, not after the fonts
        aihub_kinds = convert_aihub(fetched_aihub(args), args.image_size).kinds
    clova_paths = clova_font_paths(CLOVA_URLS, args.font_path).values()
    files = choose_font_files(args.font_path, clova_paths)
    if args.clova:
        files = sorted(set(files) | set(download_clova_fonts(CLOVA_URLS, args.font_path)))
    faces = fonts.korean_faces(files)
    if not faces and (args.image_test or not args.AIHub):
        sys.exit('crawl_data.py: no Korean fonts found: put .ttf/.otf/.ttc files in --font_path '
                 'or install fonts-nanum')
    if args.image_test:
        path = crawl.contact_sheet(faces, '가각뷁힣을쐈', args.image_size, placement, 'image_test.png')
        print(f'wrote {path}: {len(faces)} fonts')
        return
    written, kinds_written = [], set()
    if args.AIHub:
        written += write_aihub_patches(args.AIHub_path, args.image_size, args.pickle_path, args.val_path,
                                       args.val_ratio, args.pickle_size, args.seed)
        kinds_written.update(aihub_kinds)  # a part not converted keeps its old patches
    if faces:
        kinds = {face: face.kind(args.handwriting) for face in faces}
        _, font_patches = crawl.crawl_fonts(faces, kinds, charset, args.image_size, args.pickle_path,
                                            args.val_path, args.val_ratio, args.pickle_size, placement,
                                            args.seed, taken=written)
        written += font_patches
        kinds_written.update(FONT_KINDS)
    crawl.remove_stale_patches((args.pickle_path, args.val_path), kinds_written, written)


def cli():
    with reported((DownloadError, ValueError, OSError)):
        main()


if __name__ == '__main__':
    cli()
