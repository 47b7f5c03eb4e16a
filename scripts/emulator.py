#!/usr/bin/env python3
"""The AWS emulator the tests run against: moto's server (PyPI `moto[server]`
5.2.5) on 127.0.0.1, serving one request at a time.

Why not plain `moto_server`: it serves requests on threads, and moto does not
lock a DynamoDB condition check together with its write, so two concurrent
conditional writes can both succeed there. Real DynamoDB serialises writes to
one item; serving requests one at a time gives the same guarantee, so the
contract suite's exact-concurrency cases test our code, not moto's races.

    .venv/bin/python scripts/emulator.py [--port N] [--port-file PATH] [--parent-pid PID]

Prints `listening on http://127.0.0.1:PORT` once it accepts connections (and
writes the URL to --port-file). With --parent-pid it exits when that process
is gone, so a test process that dies never leaves an emulator behind.
"""

import argparse
import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        if os.getppid() == 1:
            os._exit(0)
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", args.port, app, threaded=False, request_handler=MotoRequestHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url)
        os.replace(tmp, args.port_file)
    print(f"listening on {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
