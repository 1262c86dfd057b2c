"""Draw a syllable, see it read: a local web page over the shipped model (standard library only).

    python demo.py                      # then open http://127.0.0.1:7860/
    python demo.py --port 8000 --host 0.0.0.0
"""
import argparse
import socket
import sys

from predict import open_reader


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, default=7860, help='port to listen on (default 7860; 0: any free one)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1, this machine only; 0.0.0.0: every '
                             'network interface, so other devices can reach it)')
    parser.add_argument('--weights', default='default', help="'default' (the shipped model) or a model file")
    return parser.parse_args(argv)


def network_address():
    """This machine's address on its network, for a URL another device can open (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(('10.255.255.255', 1))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostbyname(socket.gethostname())


def main(argv=None):
    args = parse_args(argv)
    from utils.demo.handlers import EXAMPLES, answer_read
    from utils.demo.server import make_server
    reader = open_reader(args.weights)  # a bad file: cli() says so in one line
    with open(f'{EXAMPLES}/printed_01.png', 'rb') as f:
        answer_read(reader, f.read())  # the first read fills caches (charset jamo, scipy): not the user's wait
    try:
        server = make_server(reader, args.host, args.port)
    except OSError as e:
        sys.exit(f'demo.py: cannot listen on {args.host}:{args.port} ({e.strerror or e}); '
                 f'choose another --port or --host')
    port = server.server_port
    local = '127.0.0.1' if args.host in ('0.0.0.0', '') else args.host
    print(f'KoOCR demo on http://{local}:{port}/  (Ctrl+C stops it)', flush=True)
    if args.host in ('0.0.0.0', ''):
        print(f'from another device on this network: http://{network_address()}:{port}/', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def cli():
    from utils.cli import reported
    with reported((ValueError, FileNotFoundError)):
        return main()


if __name__ == '__main__':
    sys.exit(cli())
