"""The page's own protocol, spoken by hand: what a hostile visitor can send that the page never would.

``gradio_client`` only calls named endpoints, and uploads any local path it is
given before sending it. A browser's page calls every event (named or not) by
its index through Gradio's queue, and can put any path in a file argument.
This client does the same with plain HTTP, so tests can hand the app exactly
what an attacker would: a served video's path instead of an upload, a float
where an id goes, a forged session.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Outcome:
    """How one call ended: its output data, or the error message the visitor was shown."""

    ok: bool
    output: list[Any] | None
    error: str | None


@dataclass(frozen=True)
class Event:
    """One backend function of the page or the API, as its configuration describes it."""

    fn_index: int
    api_name: str | None
    visibility: str
    input_types: tuple[str, ...]
    """Component types of its inputs (``"api"`` for a named endpoint's arguments)."""
    file_arguments: tuple[int, ...]
    """Positions of its arguments that take a file."""


FILE_COMPONENTS = {"file", "video", "image", "audio", "uploadbutton", "model3d", "gallery", "simpleimage"}


def file_data(path: str, **extra: Any) -> dict[str, Any]:
    """A file argument as the page sends it once the file is uploaded: ``{"path": ..., "meta": FileData}``."""
    return {"path": path, "meta": {"_type": "gradio.FileData"}, **extra}


class PageClient:
    """Calls a running app's events by index, each on a session of this client's own."""

    def __init__(self, url: str, session_hash: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=300)
        self.session_hash = session_hash or secrets.token_hex(8)
        self.config = self.http.get(self.url + "/config").json()
        self.info = self.http.get(self.url + "/gradio_api/info").json()

    def close(self) -> None:
        self.http.close()

    def events(self) -> list[Event]:
        """Every backend function the app declares (named endpoints and page events)."""
        types = {c["id"]: c["type"] for c in self.config["components"]}
        named = self.info["named_endpoints"]
        out = []
        for dep in self.config["dependencies"]:
            if dep.get("backend_fn") is False:
                continue
            inputs = tuple(types.get(i, "?") for i in dep["inputs"])
            files = tuple(n for n, t in enumerate(inputs) if t in FILE_COMPONENTS)
            endpoint = named.get(f"/{dep['api_name']}") if dep.get("api_name") else None
            if endpoint is not None and all(t == "api" for t in inputs):
                files = tuple(n for n, p in enumerate(endpoint["parameters"]) if _is_file_parameter(p))
            out.append(Event(dep["id"], dep.get("api_name"), dep.get("api_visibility", "public"), inputs, files))
        return out

    def event(self, api_name: str) -> Event:
        return next(e for e in self.events() if e.api_name == api_name)

    def call(self, fn_index: int, data: list[Any], *, trigger_id: int | None = None) -> Outcome:
        """Run one event through the queue, as the page does, and wait for how it ended."""
        joined = self.http.post(self.url + "/gradio_api/queue/join", json={
            "data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger_id,
            "session_hash": self.session_hash})
        if joined.status_code != 200:
            return Outcome(False, None, f"HTTP {joined.status_code}: {joined.text}")
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", self.url + "/gradio_api/queue/data",
                              params={"session_hash": self.session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return Outcome(True, output.get("data"), None)
                    return Outcome(False, None, output.get("error") or "")
                if message.get("msg") == "unexpected_error":
                    return Outcome(False, None, message.get("message") or "")
        raise AssertionError("the queue closed without finishing the event")

    def upload(self, path: str) -> str:
        """Upload a local file the way the page does; returns the path Gradio gives it."""
        with open(path, "rb") as f:
            response = self.http.post(self.url + "/gradio_api/upload", files={"files": (path.split("/")[-1], f)})
        response.raise_for_status()
        return response.json()[0]


def _is_file_parameter(parameter: dict[str, Any]) -> bool:
    schema = parameter.get("type") or {}
    return schema.get("type") == "object" and "path" in (schema.get("properties") or {})
