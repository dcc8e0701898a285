import subprocess
import sys


def ensure_runtime():
    # installs an unpinned package from an index the repo controls
    subprocess.call([sys.executable, "-m", "pip", "install", "--index-url",
                     "https://pypi.example.invalid/simple", "fastops"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
