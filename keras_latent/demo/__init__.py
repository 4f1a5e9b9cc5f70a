"""`keras-latent serve`: a local web page to play with a preset's attributes.

`DemoSession` (NumPy, no web dependency) answers the page; `build_page` and
`launch` (Gradio, the optional extra `pip install "keras-latent[demo]"`)
show it.
"""

from __future__ import annotations

import os

from keras_latent.demo.session import DemoSession, UploadError, load_upload

__all__ = ["DemoSession", "UploadError", "load_upload", "serve"]


def serve(
    preset: str | os.PathLike,
    port: int = 7860,
    host: str = "127.0.0.1",
    block: bool = True,
) -> str:
    """Serves the attribute page of `preset` on `http://host:port`.

    The model loads once, before the server starts; every request reuses it.

    Args:
        preset: a built-in preset name, a preset directory, `"hf://org/name"`
            or `"kaggle://owner/model/keras/variant"`.
        port: int. Defaults to `7860`.
        host: str. `"127.0.0.1"` serves this machine only. Defaults to
            `"127.0.0.1"`.
        block: bool. Serve until interrupted; `False` returns at once, the
            server running in a thread. Defaults to `True`.

    Returns:
        The page's URL.

    Example:

    ```python
    keras_latent.demo.serve("celeba_latent_constraints")
    ```
    """
    from keras_latent.demo.page import build_page, import_gradio, launch
    from keras_latent.presets import from_preset

    import_gradio()  # before the model loads: a missing extra fails fast
    model = from_preset(preset)
    session = DemoSession(model, name=os.path.basename(os.path.normpath(str(preset))))
    return launch(build_page(session), port=port, host=host, block=block)
