"""Low-code engine read throughput against a local HTTP server, as ratios to a hand-written baseline.

Run: .venv/bin/python bench/lowcode_read.py [--pages 100] [--per-page 1000]
Baseline: requests + orjson, paging by hand. Then the engine (PageIncrement + DpathExtractor), and the
engine with a RecordFilter and an AddFields (one Jinja render per record each).
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from ducto.protocol.lowcode import DeclarativeSource, StateCheckpoint


def make_server(pages: int, per_page: int) -> ThreadingHTTPServer:
    bodies = []
    for p in range(pages + 1):
        items = (
            []
            if p == pages
            else [
                {
                    "id": p * per_page + i,
                    "name": f"user {i}",
                    "active": i % 3 != 0,
                    "score": i * 0.5,
                    "tags": ["a", "b"],
                    "address": {"city": "Austin", "zip": "78701"},
                }
                for i in range(per_page)
            ]
        )
        bodies.append(orjson.dumps({"data": items, "meta": {"page": p}}))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = int(parse_qs(urlsplit(self.path).query).get("page", ["0"])[0])
            body = bodies[min(page, pages)]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def baseline(url: str, per_page: int) -> int:
    session = requests.Session()
    count, page = 0, 0
    while True:
        records = orjson.loads(session.get(url, params={"page": page, "per_page": per_page}).content)["data"]
        count += len(records)
        if len(records) < per_page:
            return count
        page += 1


def manifest(url: str, per_page: int, heavy: bool) -> dict[str, Any]:
    selector: dict[str, Any] = {"extractor": {"field_path": ["data"]}}
    stream: dict[str, Any] = {
        "name": "users",
        "retriever": {
            "requester": {"url": url},
            "record_selector": selector,
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {"type": "PageIncrement", "page_size": per_page},
                "page_size_option": {"inject_into": "request_parameter", "field_name": "per_page"},
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "page",
                },
            },
        },
    }
    if heavy:
        selector["record_filter"] = {"condition": "{{ record.score >= 0 }}"}
        stream["transformations"] = [
            {"type": "AddFields", "fields": [{"path": ["city"], "value": "{{ record.address.city }}"}]}
        ]
    return {"version": "6", "type": "DeclarativeSource", "streams": [stream]}


def engine(url: str, per_page: int, heavy: bool) -> int:
    source = DeclarativeSource(manifest(url, per_page, heavy), {})
    return sum(1 for item in source.stream("users").read(None) if not isinstance(item, StateCheckpoint))


def timed(fn: Any, *args: Any) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn(*args)
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--per-page", type=int, default=1000)
    args = parser.parse_args()
    server = make_server(args.pages, args.per_page)
    url = f"http://127.0.0.1:{server.server_address[1]}/users"
    base_t, base_n = timed(baseline, url, args.per_page)
    eng_t, eng_n = timed(engine, url, args.per_page, False)
    heavy_t, heavy_n = timed(engine, url, args.per_page, True)
    assert base_n == eng_n == heavy_n == args.pages * args.per_page
    print(f"records: {base_n} in {args.pages} pages")
    print(f"baseline (requests + orjson): {base_t:.2f}s  {base_n / base_t:,.0f} rec/s  1.00x")
    print(
        f"engine (paging + extract):    {eng_t:.2f}s  {eng_n / eng_t:,.0f} rec/s  {eng_t / base_t:.2f}x baseline time"
    )
    print(
        f"engine + filter + AddFields:  {heavy_t:.2f}s  {heavy_n / heavy_t:,.0f} rec/s  "
        f"{heavy_t / base_t:.2f}x baseline time"
    )
    server.shutdown()


if __name__ == "__main__":
    main()
