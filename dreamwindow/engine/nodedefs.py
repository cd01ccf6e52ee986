"""The node classes the dream engine knows, described the way ComfyUI's ``/object_info`` describes nodes.

Input types and ranges follow the recorded real server (so validation answers the same); the wording of
descriptions and tooltips is our own.
"""

from __future__ import annotations

from typing import Any

MAX_SEED = 0xFFFFFFFFFFFFFFFF
UPSCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
# The sampler names of ComfyUI 0.3.64, all of them: a name the real server accepts must not be a 400 here.
SAMPLERS = ["euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
            "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
            "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
            "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm",
            "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
            "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde",
            "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2"]
SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal",
              "linear_quadratic", "kl_optimal"]


def _int(default: int, lo: int, hi: int, step: int | None = 1, **extra: Any) -> list[Any]:
    opts: dict[str, Any] = {"default": default, "min": lo, "max": hi}
    if step is not None:
        opts["step"] = step
    opts.update(extra)
    return ["INT", opts]


def _float(default: float, lo: float, hi: float, step: float, **extra: Any) -> list[Any]:
    return ["FLOAT", {"default": default, "min": lo, "max": hi, "step": step, **extra}]


def _v3(d: dict[str, Any]) -> dict[str, Any]:
    """Nodes written against ComfyUI's newer node API (ImageBlur in 0.3.64) carry more keys in object_info, and a
    null ``display_name`` when they set none (clients then show the class name)."""
    d.update(output_tooltips=[None] * len(d["output"]), deprecated=False, experimental=False, api_node=False)
    return d


def _node(name: str, display: str | None, category: str, required: dict[str, Any], output: list[str],
          *, output_node: bool = False, description: str = "", hidden: dict[str, str] | None = None) -> dict:
    inputs: dict[str, Any] = {"required": required}
    order: dict[str, list[str]] = {"required": list(required)}
    if hidden:
        inputs["hidden"] = hidden
        order["hidden"] = list(hidden)
    return {
        "input": inputs, "input_order": order, "output": output, "output_is_list": [False] * len(output),
        "output_name": list(output), "name": name, "display_name": display, "description": description,
        "python_module": "dreamwindow.engine", "category": category, "output_node": output_node,
    }


def node_definitions(checkpoints: list[str], steps_default: int = 20) -> dict[str, dict[str, Any]]:
    """object_info for every class the engine can execute."""
    save_hidden = {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    defs = [
        _node("CheckpointLoaderSimple", "Load Checkpoint", "loaders",
              {"ckpt_name": [list(checkpoints), {"tooltip": "Which dream model to load."}]},
              ["MODEL", "CLIP", "VAE"], description="Loads a (dream) checkpoint."),
        _node("CLIPTextEncode", "CLIP Text Encode (Prompt)", "conditioning",
              {"text": ["STRING", {"multiline": True, "dynamicPrompts": True, "tooltip": "The words to dream."}],
               "clip": ["CLIP", {"tooltip": "Text encoder from the checkpoint."}]},
              ["CONDITIONING"], description="Turns a text prompt into conditioning."),
        _node("EmptyLatentImage", "Empty Latent Image", "latent",
              {"width": _int(512, 16, 16384, 8, tooltip="Picture width in pixels."),
               "height": _int(512, 16, 16384, 8, tooltip="Picture height in pixels."),
               "batch_size": _int(1, 1, 4096, None, tooltip="Pictures per batch.")},
              ["LATENT"], description="An empty canvas for the sampler."),
        _node("KSampler", "KSampler", "sampling",
              {"model": ["MODEL", {}],
               "seed": _int(0, 0, MAX_SEED, None, control_after_generate=True),
               "steps": _int(steps_default, 1, 10000, None),
               "cfg": _float(8.0, 0.0, 100.0, 0.1, round=0.01),
               "sampler_name": [list(SAMPLERS), {}],
               "scheduler": [list(SCHEDULERS), {}],
               "positive": ["CONDITIONING", {}], "negative": ["CONDITIONING", {}],
               "latent_image": ["LATENT", {}],
               "denoise": _float(1.0, 0.0, 1.0, 0.01)},
              ["LATENT"], description="Dreams the picture, step by step, with previews."),
        _node("VAEDecode", "VAE Decode", "latent",
              {"samples": ["LATENT", {}], "vae": ["VAE", {}]}, ["IMAGE"],
              description="Turns the sampled latent into pixels."),
        _node("SaveImage", "Save Image", "image",
              {"images": ["IMAGE", {"tooltip": "The images to save."}],
               "filename_prefix": ["STRING", {"default": "ComfyUI", "tooltip": "File name prefix; may hold a subfolder."}]},
              [], output_node=True, hidden=save_hidden, description="Saves images to the output folder."),
        _node("PreviewImage", "Preview Image", "image", {"images": ["IMAGE"]}, [], output_node=True,
              hidden=save_hidden, description="Saves images to the temp folder."),
        _node("SaveImageWebsocket", "SaveImageWebsocket", "api/image", {"images": ["IMAGE"]}, [],
              output_node=True, description="Sends images as binary WebSocket frames."),
        _node("EmptyImage", "EmptyImage", "image",
              {"width": _int(512, 1, 16384), "height": _int(512, 1, 16384),
               "batch_size": _int(1, 1, 4096, None), "color": _int(0, 0, 16777215, 1, display="color")},
              ["IMAGE"]),
        _node("ImageInvert", "Invert Image", "image", {"image": ["IMAGE"]}, ["IMAGE"]),
        _v3(_node("ImageBlur", None, "image/postprocessing",
                  {"image": ["IMAGE", {}], "blur_radius": _int(1, 1, 31), "sigma": _float(1.0, 0.1, 10.0, 0.1)},
                  ["IMAGE"])),
        _node("ImageScale", "Upscale Image", "image/upscaling",
              {"image": ["IMAGE"], "upscale_method": [list(UPSCALE_METHODS)],
               "width": _int(512, 0, 16384), "height": _int(512, 0, 16384), "crop": [["disabled", "center"]]},
              ["IMAGE"]),
        _node("ImageAddNoise", "ImageAddNoise", "image",
              {"image": ["IMAGE"], "seed": _int(0, 0, MAX_SEED, None, control_after_generate=True),
               "strength": _float(0.5, 0.0, 1.0, 0.01)},
              ["IMAGE"]),
    ]
    return {d["name"]: d for d in defs}
