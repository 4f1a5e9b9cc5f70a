"""`python -m keras_latent.cli`: the same as `keras-latent`."""

import sys

from keras_latent.cli import main

sys.exit(main())
