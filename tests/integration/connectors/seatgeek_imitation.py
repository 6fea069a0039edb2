"""A local HTTP server imitating SeatGeek's platform API (shape of responses, paging, filters, auth)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CLIENT_ID = "sg-client-7f3a"
CLIENT_SECRET = "sg-secret-91bc"


def make_data(n_events: int = 7) -> dict[str, list[dict[str, Any]]]:
    start = dt.datetime(2024, 1, 1, 19, 0, 0)
    venues = [
        {
            "id": 100 + i,
            "name": f"Venue {i}",
            "city": "Austin",
            "state": "TX",
            "country": "US",
            "capacity": 1000 * (i + 1),
            "location": {"lat": 30.2 + i, "lon": -97.7},
        }
        for i in range(3)
    ]
    performers = [
        {
            "id": 200 + i,
            "name": f"Band {i}",
            "type": "band",
            "score": 0.5 + i / 10,
            "has_upcoming_events": True,
            "num_upcoming_events": i,
        }
        for i in range(4)
    ]
    events = []
    for i in range(n_events):
        when = start + dt.timedelta(days=3 * i)
        events.append(
            {
                "id": 5000 + i,
                "type": "concert",
                "title": f"Concert {i}",
                "short_title": f"C{i}",
                "datetime_utc": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "datetime_local": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "venue": venues[i % 3],
                "performers": [performers[i % 4]],
                "score": 0.1 * i,
                "stats": {"listing_count": 10 + i, "lowest_price": 20 + i},
                "taxonomies": [{"id": 2000000, "name": "concert"}],
            }
        )
    taxonomies = [
        {"id": 1000000, "name": "sports", "parent_id": None},
        {"id": 2000000, "name": "concert", "parent_id": None},
    ]
    return {"events": events, "performers": performers, "venues": venues, "taxonomies": taxonomies}


class SeatGeekImitation:
    """Serves /events, /events/<id>, /performers, /venues, /taxonomies like SeatGeek does."""

    def __init__(
        self, server: HTTPServer, data: dict[str, list[dict[str, Any]]] | None = None, require_secret: bool = True
    ) -> None:
        self.data = data or make_data()
        self.require_secret = require_secret
        self.requests: list[Request] = []
        server.expect_request(re.compile(r"^/2/.*")).respond_with_handler(self.handle)
        self.url_base = server.url_for("/2").rstrip("/")

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        args = request.args
        if args.get("client_id") != CLIENT_ID or (self.require_secret and args.get("client_secret") != CLIENT_SECRET):
            return self._json({"status": "error", "code": 403, "message": "Invalid credentials"}, 403)
        path = request.path[len("/2") :]
        m = re.fullmatch(r"/events/(\d+)", path)
        if m:
            found = [e for e in self.data["events"] if e["id"] == int(m.group(1))]
            if not found:
                return self._json({"status": "error", "code": 404, "message": "Not found"}, 404)
            return self._json({**found[0], "description": f"Details of {found[0]['title']}"})
        kind = path.strip("/")
        if kind not in self.data:
            return self._json({"status": "error", "code": 404, "message": "Not found"}, 404)
        items = self.data[kind]
        if kind == "taxonomies":
            return self._json({"taxonomies": items, "meta": {"total": len(items), "took": 1}})
        if kind == "events":
            gte, lte = args.get("datetime_utc.gte"), args.get("datetime_utc.lte")
            items = [
                e for e in items if (not gte or e["datetime_utc"] >= gte) and (not lte or e["datetime_utc"] <= lte)
            ]
            if args.get("sort") == "datetime_utc.asc":
                items = sorted(items, key=lambda e: e["datetime_utc"])
        per_page = int(args.get("per_page", "10"))
        page = int(args.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        return self._json(
            {
                kind: chunk,
                "meta": {"total": len(items), "page": page, "per_page": per_page, "took": 2, "geolocation": None},
            }
        )

    @staticmethod
    def _json(body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")
