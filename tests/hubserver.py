"""A fake model hub on 127.0.0.1 speaking the subset of each hub's HTTP API the clients call.

Hugging Face (``/api/models/...``, ``/{repo}/resolve/{rev}/{path}`` with
Range, LFS files redirected to a "CDN" on another host name, the headers
``huggingface_hub`` reads on HEAD), GitHub (``/repos/{o}/{r}/commits/{ref}``,
``/{o}/{r}/zipball/{ref}``) for torch.hub, ModelScope (``/api/v1/models/...``)
and OpenCSG (``/api/v1/models/.../tree``, ``/resolve``). Repos are built
by the tests in memory or from files on disk. Faults are injected per URL
path: an HTTP status for the next N requests, a truncated body, a lying
size, a swapped file.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

LFS_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".pkl", ".h5", ".onnx", ".gguf")

Content = bytes | Path


def _sha256(content: Content) -> str:
    digest = hashlib.sha256()
    if isinstance(content, bytes):
        digest.update(content)
    else:
        with content.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _size(content: Content) -> int:
    return len(content) if isinstance(content, bytes) else content.stat().st_size


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    """One repository: commits (id -> files) and refs (branch/tag -> commit id)."""

    repo_id: str
    commits: dict[str, dict[str, Content]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    created_at: str = "2025-01-02T03:04:05.000Z"
    last_modified: str = "2026-02-03T04:05:06.000Z"
    downloads: int = 0
    private: bool = False  # requires "Authorization: Bearer good-token"
    hide_sizes: bool = False  # model_info without sizes: clients must list the tree
    _sha_cache: dict[tuple[str, str], str] = field(default_factory=dict)

    def commit(self, files: dict[str, Content], ref: str = "main") -> str:
        raw = json.dumps(
            {k: _sha256(v) for k, v in sorted(files.items())} | {"#parent": self.refs.get(ref)}
        )
        commit_id = hashlib.sha1(raw.encode()).hexdigest()
        self.commits[commit_id] = dict(files)
        self.refs[ref] = commit_id
        return commit_id

    def resolve(self, rev: str) -> str | None:
        if rev in self.commits:
            return rev
        return self.refs.get(rev)

    def sha(self, commit: str, path: str) -> str:
        key = (commit, path)
        if key not in self._sha_cache:
            self._sha_cache[key] = _sha256(self.commits[commit][path])
        return self._sha_cache[key]

    def is_lfs(self, path: str, content: Content) -> bool:
        return path.endswith(LFS_SUFFIXES) or _size(content) > 1_000_000


@dataclass
class Fault:
    """What to do to the next ``times`` requests whose path matches ``pattern``."""

    pattern: str
    kind: str  # "status", "truncate", "lie-size", "swap", "ignore-range", "stall"
    times: int = 1
    status: int = 500
    swap_with: bytes = b""
    retry_after: str | None = None
    seconds: float = 1.0  # for "stall"


class HubState:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.github: dict[str, Repo] = {}
        self.modelscope: dict[str, Repo] = {}
        self.opencsg: dict[str, Repo] = {}
        self.files: dict[str, Content] = {}  # plain download URLs (/files/{name})
        self.renamed: dict[str, str] = {}  # old repo id -> new (HF answers 307)
        self.listing_expand: list[str] = []  # what the last /api/models listing asked for
        self.latency = 0.0  # seconds added to every request
        self.authorised_paths: list[str] = []  # requests that carried an Authorization header
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []  # (method, path, range)
        self.bytes_served = 0
        self.lock = threading.Lock()

    def repo(self, repo_id: str, **kwargs: object) -> Repo:
        repo = Repo(repo_id, **kwargs)  # type: ignore[arg-type]
        self.repos[repo_id] = repo
        return repo

    def fault(self, pattern: str, kind: str = "status", **kwargs: object) -> Fault:
        fault = Fault(pattern, kind, **kwargs)  # type: ignore[arg-type]
        self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and re.search(fault.pattern, path):
                    fault.times -= 1
                    return fault
        return None

    def served(self, n: int) -> None:
        with self.lock:
            self.bytes_served += n


class Handler(BaseHTTPRequestHandler):
    server: HubServer
    protocol_version = "HTTP/1.1"
    hf_repos: dict[str, Repo]

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    @property
    def state(self) -> HubState:
        return self.server.state

    # ----------------------------------------------------------------- plumbing

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = dict(parse_qs(url.query).items())
        self.state.log.append((self.command, path, self.headers.get("Range", "")))
        if self.headers.get("Authorization"):
            self.state.authorised_paths.append(path)
        # CSGHub serves the Hugging Face API under /csg: same routes, its own repos
        self.hf_repos = self.state.repos
        if path.startswith("/csg/"):
            path, self.hf_repos = path[len("/csg") :], self.state.opencsg
        for old, new in self.state.renamed.items():
            for before, after in (
                (f"/api/models/{old}/", f"/api/models/{new}/"),
                (f"/{old}/resolve/", f"/{new}/resolve/"),
            ):
                if path.startswith(before) or path == before.rstrip("/"):
                    moved = (
                        after + path[len(before) :]
                        if path.startswith(before)
                        else after.rstrip("/")
                    )
                    query = f"?{url.query}" if url.query else ""
                    return self._send(307, b"", head=head, headers={"Location": moved + query})
        if self.state.latency:
            time.sleep(self.state.latency)  # a far-away hub: every request pays a round trip
        fault = self.state.take_fault(path)
        try:
            if fault is not None and fault.kind == "stall":
                time.sleep(fault.seconds)  # a server that accepts and then says nothing
                return self._send(200, b"", head=head)
            if fault is not None and fault.kind == "github-rate-limit":
                reset = str(int(time.time()))  # "resets now": the retry may go ahead at once
                extra = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
                return self._send(403, b'{"message": "API rate limit exceeded"}', headers=extra)
            if fault is not None and fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._send(fault.status, b"fault", head=head, headers=extra)
            for pattern, method in ROUTES:
                match = re.fullmatch(pattern, path)
                if match:
                    return method(self, match, query, head, fault)
            self._send(404, b"no route", head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        head: bool = False,
        headers: dict[str, str] | None = None,
        content_type: str = "application/octet-stream",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)
            self.state.served(len(body))

    def _json(self, obj: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(
            status, json.dumps(obj).encode(), headers=headers, content_type="application/json"
        )

    def _hf_error(self, code: str, status: int = 404, head: bool = False) -> None:
        self._send(status, b"{}", head=head, headers={"X-Error-Code": code})

    def _authorised(self, repo: Repo) -> bool:
        return not repo.private or self.headers.get("Authorization") == "Bearer good-token"

    def _serve_content(
        self, content: Content, head: bool, headers: dict[str, str], fault: Fault | None
    ) -> None:
        """200 or 206 with Range support; faults bend the truth on purpose."""
        size = _size(content)
        if fault is not None and fault.kind == "swap":
            content, size = fault.swap_with, len(fault.swap_with)
        start, end = 0, size
        status = 200
        rng = self.headers.get("Range")
        if rng and not (fault is not None and fault.kind == "ignore-range"):
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m or int(m.group(1)) >= size:
                return self._send(416, b"", head=head, headers={"Content-Range": f"bytes */{size}"})
            start = int(m.group(1))
            end = min(int(m.group(2)) + 1, size) if m.group(2) else size
            status = 206
            reported = size + 1000 if fault is not None and fault.kind == "lie-size" else size
            headers = headers | {"Content-Range": f"bytes {start}-{end - 1}/{reported}"}
        length = end - start
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        for key, value in headers.items():
            self.send_header(key, value)
        if fault is not None and fault.kind == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        send = length // 2 if fault is not None and fault.kind == "truncate" else length
        for chunk in _chunks(content, start, start + send):
            self.wfile.write(chunk)
            self.state.served(len(chunk))
        if send < length:
            self.wfile.flush()
            self.close_connection = True

    # ----------------------------------------------------------------- Hugging Face

    def hf_model_info(
        self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object
    ) -> None:
        repo = self.hf_repos.get(m["repo"])
        if repo is None or not self._authorised(repo):
            return self._hf_error("RepoNotFound", 401)
        commit = repo.resolve(m.groupdict().get("rev") or "main")
        if commit is None:
            return self._hf_error("RevisionNotFound")
        blobs = q.get("blobs") == ["True"] or q.get("blobs") == ["true"]
        siblings = []
        for path, content in sorted(repo.commits[commit].items()):
            entry: dict[str, object] = {"rfilename": path}
            if blobs and not repo.hide_sizes:
                entry.update(self._blob_meta(repo, commit, path, content))
            siblings.append(entry)
        self._json(
            {
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "sha": commit,
                "siblings": siblings,
                "tags": repo.tags,
                "createdAt": repo.created_at,
                "lastModified": repo.last_modified,
                "downloads": repo.downloads,
                "likes": 1,
                "private": repo.private,
                "gated": False,
                "author": repo.repo_id.split("/")[0],
                "library_name": "transformers",
            }
        )

    def _blob_meta(self, repo: Repo, commit: str, path: str, content: Content) -> dict[str, object]:
        size = _size(content)
        if repo.is_lfs(path, content):
            sha = repo.sha(commit, path)
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n"
            return {
                "size": size,
                "blobId": _git_blob(pointer.encode()),
                "lfs": {"size": size, "sha256": sha, "pointerSize": len(pointer)},
            }
        assert isinstance(content, bytes)
        return {"size": size, "blobId": _git_blob(content)}

    def hf_tree(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.hf_repos.get(m["repo"])
        if repo is None or not self._authorised(repo):
            return self._hf_error("RepoNotFound", 401)
        commit = repo.resolve(m["rev"])
        if commit is None:
            return self._hf_error("RevisionNotFound")
        out = []
        for path, content in sorted(repo.commits[commit].items()):
            meta = self._blob_meta(repo, commit, path, content)
            entry: dict[str, object] = {
                "type": "file",
                "path": path,
                "size": meta["size"],
                "oid": meta["blobId"],
            }
            if "lfs" in meta:
                lfs = meta["lfs"]
                assert isinstance(lfs, dict)
                entry["lfs"] = {
                    "oid": lfs["sha256"],
                    "size": lfs["size"],
                    "pointerSize": lfs["pointerSize"],
                }
            out.append(entry)
        self._json(out)

    def hf_list(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        wanted = set(q.get("filter", []))
        self.state.listing_expand = q.get("expand", [])
        search = (q.get("search") or [""])[0]
        author = (q.get("author") or [""])[0]
        out = []
        for repo in self.hf_repos.values():
            if repo.private or not wanted <= set(repo.tags):
                continue
            if search not in repo.repo_id or (author and not repo.repo_id.startswith(author + "/")):
                continue
            out.append(
                {
                    "id": repo.repo_id,
                    "modelId": repo.repo_id,
                    "sha": repo.refs.get("main"),
                    "tags": repo.tags,
                    "createdAt": repo.created_at,
                    "lastModified": repo.last_modified,
                    "downloads": repo.downloads,
                    "likes": 1,
                }
            )
        out.sort(key=lambda r: -int(str(r["downloads"])))
        limit = int((q.get("limit") or ["1000"])[0])
        self._json(out[:limit])

    def hf_resolve(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.hf_repos.get(m["repo"])
        if repo is None or not self._authorised(repo):
            return self._hf_error("RepoNotFound", 401, head)
        commit = repo.resolve(m["rev"])
        if commit is None:
            return self._hf_error("RevisionNotFound", 404, head)
        content = repo.commits[commit].get(m["path"])
        if content is None:
            return self._hf_error("EntryNotFound", 404, head)
        fault = f if isinstance(f, Fault) else None
        headers = {"X-Repo-Commit": commit}
        if repo.is_lfs(m["path"], content):
            sha = repo.sha(commit, m["path"])
            # Like the real Hub: LFS files redirect to a CDN on another host; the
            # redirect response itself carries the file's metadata.
            cdn = f"http://localhost:{self.server.server_address[1]}/cdn/{sha}"
            headers |= {
                "Location": cdn,
                "X-Linked-Etag": f'"{sha}"',
                "X-Linked-Size": str(_size(content)),
                "ETag": f'"{sha}"',
            }
            self.server.blobs[sha] = content
            if fault is not None:
                self.server.blob_faults[sha] = fault
            return self._send(302, b"", head=head, headers=headers)
        assert isinstance(content, bytes)
        headers["ETag"] = f'"{_git_blob(content)}"'
        self._serve_content(content, head, headers, fault)

    def cdn(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        content = self.server.blobs.get(m["sha"])
        if content is None:
            return self._send(404, b"", head=head)
        fault = f if isinstance(f, Fault) else self.server.blob_faults.pop(m["sha"], None)
        self._serve_content(content, head, {"ETag": f'"{m["sha"]}"'}, fault)

    # ----------------------------------------------------------------- GitHub (torch.hub)

    def gh_commit(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.github.get(f"{m['owner']}/{m['repo']}")
        if repo is None:
            return self._json({"message": "Not Found"}, 404)
        commit = repo.resolve(m["ref"]) or next(
            (c for c in repo.commits if c.startswith(m["ref"]) and len(m["ref"]) >= 7), None
        )
        if commit is None:
            return self._json({"message": f"No commit found for SHA: {m['ref']}"}, 422)
        self._json({"sha": commit, "commit": {"committer": {"date": repo.last_modified}}})

    def gh_repo(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.github.get(f"{m['owner']}/{m['repo']}")
        if repo is None:
            return self._json({"message": "Not Found"}, 404)
        self._json(
            {
                "full_name": repo.repo_id,
                "default_branch": "main" if "main" in repo.refs else "master",
                "created_at": repo.created_at,
                "pushed_at": repo.last_modified,
                "topics": repo.tags,
                "fork": False,
            }
        )

    def gh_zipball(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        # like github.com: the archive lives on another host (codeload)
        port = self.server.server_address[1]
        where = f"http://localhost:{port}/codeload/{m['owner']}/{m['repo']}/legacy.zip/{m['ref']}"
        self._send(302, b"", head=head, headers={"Location": where})

    def gh_codeload(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.github.get(f"{m['owner']}/{m['repo']}")
        commit = repo.resolve(m["ref"]) if repo else None
        if repo is None or commit is None:
            return self._send(404, b"Not Found", head=head)
        top = f"{m['owner']}-{m['repo']}-{commit[:7]}/"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for path, content in sorted(repo.commits[commit].items()):
                assert isinstance(content, bytes)
                zf.writestr(top + path, content)
        fault = f if isinstance(f, Fault) else None
        self._serve_content(buffer.getvalue(), head, {}, fault)

    def gh_raw(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.github.get(f"{m['owner']}/{m['repo']}")
        files = repo.commits.get(m["commit"]) if repo else None
        if files is None or m["path"] not in files:
            return self._send(404, b"404: Not Found", head=head)
        self._serve_content(files[m["path"]], head, {}, f if isinstance(f, Fault) else None)

    def plain_file(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        content = self.state.files.get(m["name"])
        if content is None:
            return self._send(404, b"", head=head)
        self._serve_content(content, head, {}, f if isinstance(f, Fault) else None)

    # ----------------------------------------------------------------- ModelScope

    def ms_model(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.modelscope.get(m["repo"])
        if repo is None:
            return self._json({"Code": 10010205001, "Message": "model not found"}, 404)
        self._json(
            {
                "Code": 200,
                "Success": True,
                "Data": {
                    "Name": repo.repo_id.split("/")[1],
                    "Path": repo.repo_id.split("/")[0],
                    "Tags": repo.tags,
                    "CreatedTime": 1735787045,
                    "LastUpdatedTime": 1770091506,
                    "CreatedAt": 1735787045,
                    "UpdatedAt": 1770091506,
                    "Downloads": repo.downloads,
                },
            }
        )

    def ms_revisions(self, m: re.Match[str], q: dict[str, list[str]], h: bool, f: object) -> None:
        repo = self.state.modelscope.get(m["repo"])
        if repo is None:
            return self._json({"Code": 10010205001, "Message": "model not found"}, 404)
        branches = [
            {"Revision": name, "CommitId": commit} for name, commit in sorted(repo.refs.items())
        ]
        self._json({"Code": 200, "Data": {"RevisionMap": {"Branches": branches, "Tags": []}}})

    def ms_files(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.modelscope.get(m["repo"])
        if repo is None:
            return self._json({"Code": 10010205001, "Message": "model not found"}, 404)
        commit = repo.resolve((q.get("Revision") or ["master"])[0])
        if commit is None:
            return self._json({"Code": 10010205001, "Message": "revision not found"}, 404)
        files = [
            {
                "Name": path.rsplit("/", 1)[-1],
                "Path": path,
                "Size": _size(content),
                "Sha256": repo.sha(commit, path),
                "Type": "blob",
                "Revision": commit,
                "IsLFS": repo.is_lfs(path, content),
            }
            for path, content in sorted(repo.commits[commit].items())
        ]
        self._json({"Code": 200, "Data": {"Files": files, "LatestCommitter": {"Id": commit}}})

    def ms_file(self, m: re.Match[str], q: dict[str, list[str]], head: bool, f: object) -> None:
        repo = self.state.modelscope.get(m["repo"])
        commit = repo.resolve((q.get("Revision") or ["master"])[0]) if repo else None
        path = (q.get("FilePath") or [""])[0]
        if repo is None or commit is None or path not in repo.commits[commit]:
            return self._json({"Code": 10010205001, "Message": "file not found"}, 404)
        self._serve_content(
            repo.commits[commit][path], head, {}, f if isinstance(f, Fault) else None
        )


def _chunks(content: Content, start: int, end: int) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content[start:end]
        return
    with content.open("rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


REPO = r"(?P<repo>[^/]+/[^/]+)"
ROUTES: list[tuple[str, object]] = [
    (rf"/api/models/{REPO}/revision/(?P<rev>[^/]+)", Handler.hf_model_info),
    (rf"/api/models/{REPO}", Handler.hf_model_info),
    (rf"/api/models/{REPO}/tree/(?P<rev>[^/]+)(?:/.*)?", Handler.hf_tree),
    (r"/api/models", Handler.hf_list),
    (rf"/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", Handler.hf_resolve),
    (r"/cdn/(?P<sha>[0-9a-f]{64})", Handler.cdn),
    (r"/github/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/commits/(?P<ref>.+)", Handler.gh_commit),
    (r"/github/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", Handler.gh_repo),
    (r"/github/(?P<owner>[^/]+)/(?P<repo>[^/]+)/zipball/(?P<ref>.+)", Handler.gh_zipball),
    (r"/codeload/(?P<owner>[^/]+)/(?P<repo>[^/]+)/legacy.zip/(?P<ref>.+)", Handler.gh_codeload),
    (
        r"/raw/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<commit>[0-9a-f]{40})/(?P<path>.+)",
        Handler.gh_raw,
    ),
    (r"/files/(?P<name>.+)", Handler.plain_file),
    (rf"/modelscope/api/v1/models/{REPO}/revisions", Handler.ms_revisions),
    (rf"/modelscope/api/v1/models/{REPO}/repo/files", Handler.ms_files),
    (rf"/modelscope/api/v1/models/{REPO}/repo", Handler.ms_file),
    (rf"/modelscope/api/v1/models/{REPO}", Handler.ms_model),
]


class HubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = HubState()
        self.blobs: dict[str, Content] = {}
        self.blob_faults: dict[str, Fault] = {}
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def quote_rev(rev: str) -> str:
    return quote(rev, safe="")
