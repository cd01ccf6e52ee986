"""The wall display: pygame-ce renderer, transitions and captions."""

import os

# pygame-ce prints a banner to stdout at import unless told not to; a daemon's stdout is not for banners.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
