"""Download the original's dataset archives and unpack them into ./data and ./val_data.

    python load_data.py --sevenzip=true
    python load_data.py --url=http://mirror.example/koocr   # a mirror serving data.7z, val_data.7z
"""
import argparse
import sys

from utils.config import str2bool
from utils.data.download import ArchiveError, DownloadError, WebPageError, fetch_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sevenzip', type=str2bool, default=True, metavar='{true,false}',
                        help='true: fetch the .7z archives (smaller), false: the .zip ones')
    parser.add_argument('--url', default=None,
                        help='base URL of a mirror serving data.7z/val_data.7z (or .zip); default: Google Drive')
    parser.add_argument('--data_path', default='./data', help='where the training patches go')
    parser.add_argument('--val_path', default='./val_data', help='where the validation patches go')
    parser.add_argument('--download_dir', default='./downloads', help='where the archives are kept')
    args = parser.parse_args()
    try:
        fetch_dataset(args.sevenzip, args.url, args.data_path, args.val_path, args.download_dir)
    except WebPageError as e:
        sys.exit(f'load_data.py: {e}')
    except DownloadError as e:
        sys.exit(f'load_data.py: {e}. Offline? Build the data from fonts instead: python crawl_data.py')
    except (ArchiveError, FileNotFoundError) as e:
        sys.exit(f'load_data.py: {e}')


if __name__ == '__main__':
    main()
