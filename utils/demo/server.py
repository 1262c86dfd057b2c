"""The demo's HTTP server (standard library only): routes each request to a function of ``handlers``.

    GET  /                 the page
    GET  /examples.json    the example images: [{'file', 'label', 'kind'}]
    GET  /examples/NAME    one of them
    POST /read?source=S    body: an image file (a canvas PNG, an upload); answer: JSON (handlers.answer_read)
"""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from utils.demo import handlers

DRAIN_LIMIT = 8 * handlers.MAX_UPLOAD_BYTES  # an oversized body up to this is read and dropped, see _refuse
BUSY_LIMIT = 8  # reads in progress at once (each holds its body in memory); more are answered 503
BODY_SECONDS = 30  # the whole body must arrive within this


class DemoServer(ThreadingHTTPServer):
    """One reader for all requests: LiteRT interpreters are not thread-safe, so reads take turns (a read
    costs milliseconds); the threads keep a browser's idle spare connection from blocking the page."""
    daemon_threads = True

    def __init__(self, address, reader):
        super().__init__(address, DemoHandler)
        self.reader = reader
        self.read_lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(BUSY_LIMIT)


class DemoHandler(BaseHTTPRequestHandler):
    server_version = 'KoOCR-demo'
    timeout = 30  # seconds a connection may sit idle or trickle its body

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path in ('/', '/index.html'):
            self._send(200, handlers.page_bytes(), 'text/html; charset=utf-8')
        elif path == '/examples.json':
            self._send_json(200, handlers.example_list())
        elif path.startswith('/examples/') and (data := handlers.example_bytes(path.removeprefix('/examples/'))):
            self._send(200, data, 'image/png', cache=True)
        else:
            self._send_json(404, {'error': f'No page at {path}.'})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != '/read':
            self._send_json(404, {'error': f'Nothing to post to at {url.path}; images go to /read.'})
            return
        try:
            size = handlers.check_length(self.headers.get('Content-Length'))
        except handlers.BadInput as e:
            self._refuse(e)
            return
        if not self.server.slots.acquire(blocking=False):
            self._refuse(handlers.BadInput('The demo is busy with other reads; try again in a moment.', 503))
            return
        try:
            data = self._read_body(size)
            if data is None:
                self.close_connection = True
                self._send_json(408, {'error': f'The image took over {BODY_SECONDS} s to arrive.'})
                return
            source = urllib.parse.parse_qs(url.query).get('source', ['upload'])[0]
            with self.server.read_lock:
                status, answer = handlers.answer_read(self.server.reader, data, source)
        finally:
            self.server.slots.release()
        self._send_json(status, answer)

    def _read_body(self, size):
        """The body, or None when it does not arrive within BODY_SECONDS (a client trickling bytes)."""
        deadline, parts, remaining = time.monotonic() + BODY_SECONDS, [], size
        while remaining > 0:
            if time.monotonic() > deadline:
                return None
            chunk = self.rfile.read(min(remaining, 2 ** 16))
            if not chunk:
                break
            parts.append(chunk)
            remaining -= len(chunk)
        return b''.join(parts)

    def _refuse(self, error):
        """Answer a body refused unread. A client still sending when the socket closes sees a reset, not
        the answer, so a body of a plausible size is read (and dropped) first; a larger one is cut off."""
        size = self.headers.get('Content-Length', '')
        if size.isdigit() and int(size) <= DRAIN_LIMIT:
            remaining = int(size)
            while remaining > 0 and (chunk := self.rfile.read(min(remaining, 2 ** 20))):
                remaining -= len(chunk)
        self.close_connection = True
        self._send_json(error.status, {'error': str(error)})

    def _send_json(self, status, content):
        self._send(status, json.dumps(content, ensure_ascii=False).encode('utf-8'), 'application/json')

    def _send(self, status, body, content_type, cache=False):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'max-age=3600' if cache else 'no-store')
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code='-', size='-'):
        """Requests that were answered are not logged (one per stroke); errors still are (log_error)."""


def make_server(reader, host='127.0.0.1', port=0):
    """A DemoServer bound to (host, port), not yet serving; port 0 takes a free one (server.server_port)."""
    return DemoServer((host, port), reader)
