"""Names the rest of DreamWindow may rely on without importing the engine's server code."""

# The one checkpoint the built-in engine lists (object_info CheckpointLoaderSimple ckpt_name, /models/checkpoints).
ENGINE_CHECKPOINT = "dreamwindow-dream.safetensors"

# What /system_stats reports as comfyui_version, so a client can tell it is talking to the dream engine.
ENGINE_VERSION = "dreamwindow-engine-0.1.0"
