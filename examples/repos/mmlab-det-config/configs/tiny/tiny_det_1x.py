_base_ = ["../_base_/models/tiny_det.py", "../_base_/default_runtime.py"]

custom_imports = dict(imports=["projects.tinydet.hooks"], allow_failed_imports=False)

train_cfg = dict(max_epochs=12)
custom_hooks = [dict(type="SyncCacheHook"), dict(type="os.system", command="true")]
