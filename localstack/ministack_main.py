"""Starts MiniStack (`ministack.app.main`) with Nagle's algorithm off on its Python HTTP
servers, the Lambda Runtime API among them.

Python's `http.server` writes a response's headers and body in two sends. With Nagle on, the
body waits for the client's ACK of the headers, and the client delays that ACK by up to 40 ms:
every Lambda invocation then stalled ~40 ms before the function even saw its event. AWS's
Runtime API has no such stall, so the local stack turns it off to measure what AWS would.
"""

import re
import socketserver
import sys

socketserver.StreamRequestHandler.disable_nagle_algorithm = True

from ministack.app import main  # noqa: E402 - after the patch, so its servers inherit it

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(main())
