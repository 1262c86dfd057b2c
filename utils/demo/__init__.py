"""The drawing demo (``demo.py``): one page of our own, served by the standard library. ``handlers`` turns a
request's bytes into an answer (plain functions the tests call without a browser or a socket), ``server``
routes HTTP requests to them, ``page.html`` is the page (a canvas, plain JS, nothing from the internet).
"""
