"""Plain HTTP for hubs without a Python client here (GitHub, ModelScope, CSGHub, OpenMMLab).

Standard library only. Retries 429/5xx and dropped connections with the
bounded backoff of ``remote.with_retries``; a body is never longer than the
cap asked for; credentials are sent as unredirected headers, so a redirect
to a CDN or another host never carries them along.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .remote import (
    RETRY_STATUSES,
    RemoteReadError,
    RetryableError,
    check_range_response,
    current_retry_policy,
    parse_retry_after,
    with_retries,
)

USER_AGENT = "loadguard (+https://github.com/loadguard)"


class NotFound(RemoteReadError):
    """HTTP 404 (or a hub's equivalent): the repo, revision or file does not exist."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise RemoteReadError(f"not JSON: {exc}") from None


def get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    secret_headers: Mapping[str, str] | None = None,
    max_bytes: int = 64 << 20,
    what: str | None = None,
    timeout: float | None = None,
    truncate: bool = False,
) -> Response:
    """GET with retries. Raises ``NotFound`` on 404, ``RemoteReadError`` on other failures.

    A body longer than ``max_bytes`` is an error, or with ``truncate`` cut
    there (the caller checks sizes itself and must not download more).
    """
    label = what or url
    _check_scheme(url, label)
    seconds = timeout if timeout is not None else current_retry_policy().timeout_seconds

    def attempt() -> Response:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
        for key, value in (secret_headers or {}).items():
            request.add_unredirected_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=seconds) as response:  # nosec B310
                body = response.read(max_bytes + 1)
                status = response.status
                got = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            status = exc.code
            answer = exc.headers
            retry_after = parse_retry_after(answer.get("Retry-After") if answer else None)
            exc.close()
            if status in RETRY_STATUSES:
                raise RetryableError(f"{label}: HTTP {status}", retry_after) from None
            if status == 403 and answer is not None and answer.get("X-RateLimit-Remaining") == "0":
                # GitHub's rate limit is a 403 with these headers, not a 429
                wait = _seconds_until(answer.get("X-RateLimit-Reset"))
                raise RetryableError(
                    f"{label}: rate limited (HTTP 403, limit exhausted; set GITHUB_TOKEN)", wait
                ) from None
            if status == 404:
                raise NotFound(f"{label}: not found (HTTP 404)") from None
            if status in (401, 403):
                raise RemoteReadError(f"{label}: not authorised (HTTP {status})") from None
            raise RemoteReadError(f"{label}: HTTP {status}") from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RetryableError(f"{label}: network error ({type(reason).__name__})") from None
        declared = got.get("content-length")
        if len(body) > max_bytes:
            if not truncate:
                raise RemoteReadError(f"{label}: response larger than {max_bytes} bytes")
            return Response(status, got, body[:max_bytes])
        if declared and declared.isdigit() and int(declared) != len(body):
            raise RetryableError(f"{label}: truncated response ({len(body)} of {declared} bytes)")
        return Response(status, got, body)

    return with_retries(attempt)


def _seconds_until(epoch: str | None) -> float | None:
    if not epoch or not epoch.isdigit():
        return None
    return max(0.0, int(epoch) - time.time())


def _check_scheme(url: str, label: str) -> None:
    # URLs come from hub answers (metafile weights, redirects): never file:// or ftp://
    if not url.startswith(("http://", "https://")):
        raise RemoteReadError(f"{label}: refusing a non-HTTP URL")


def content_length(
    url: str, *, secret_headers: Mapping[str, str] | None = None, what: str | None = None
) -> int | None:
    """A file's size from a HEAD request (redirects followed), or None if the server hides it."""
    label = what or url
    _check_scheme(url, label)

    def attempt() -> int | None:
        request = urllib.request.Request(
            url, method="HEAD", headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        )
        for key, value in (secret_headers or {}).items():
            request.add_unredirected_header(key, value)
        try:
            seconds = current_retry_policy().timeout_seconds
            with urllib.request.urlopen(request, timeout=seconds) as response:  # nosec B310
                value = response.headers.get("Content-Length")
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in RETRY_STATUSES:
                raise RetryableError(f"{label}: HTTP {exc.code}") from None
            if exc.code == 404:
                raise NotFound(f"{label}: not found (HTTP 404)") from None
            raise RemoteReadError(f"{label}: HTTP {exc.code}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise RetryableError(f"{label}: network error ({type(exc).__name__})") from None
        return int(value) if value and value.isdigit() else None

    return with_retries(attempt)


def get_json(url: str, **kwargs: object) -> object:
    return get(url, **kwargs).json()  # type: ignore[arg-type]


class UrlFetcher:
    """A ``RangeFetcher`` for hubs whose files have a plain URL each."""

    def __init__(
        self,
        url_for: Callable[[str], str],
        sizes: Mapping[str, int],
        *,
        secret_headers: Mapping[str, str] | None = None,
        label: str = "",
    ) -> None:
        self._url_for, self._sizes = url_for, dict(sizes)
        self._secret = dict(secret_headers or {})
        self._label = label

    def fetch_range(self, path: str, start: int, end: int) -> bytes:
        size = self._sizes.get(path, -1)
        response = get(
            self._url_for(path),
            headers={"Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"},
            secret_headers=self._secret,
            max_bytes=end,  # a server ignoring the range is read only up to what we need
            what=f"{self._label}{path}",
            truncate=True,
        )
        return check_range_response(
            path,
            start,
            end,
            response.status,
            response.headers.get("content-range"),
            response.body,
            size,
            response.headers.get("content-length"),
        )

    def fetch_whole(self, path: str, size: int) -> bytes:
        return get(
            self._url_for(path),
            headers={"Accept-Encoding": "identity"},
            secret_headers=self._secret,
            max_bytes=size + 1,
            what=f"{self._label}{path}",
            truncate=True,
        ).body
