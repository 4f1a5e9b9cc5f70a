"""`keras-latent upload`: share a preset folder on the Hugging Face Hub or Kaggle."""

from __future__ import annotations

import sys

from keras_latent.cli.common import fail

# The exit status when the checks passed but the hub refused the upload or
# the network failed: not a usage error.
UPLOAD_FAILED = 1


def add_parser(commands) -> None:
    """Adds the `upload` subcommand to the subparsers `commands`."""
    parser = commands.add_parser(
        "upload",
        help="check a preset folder and upload it to the Hugging Face Hub or "
        "Kaggle Models",
        description="Checks a preset folder (it loads; metadata.json says how "
        "the weights were earned; README.md card; no stray files), then "
        "uploads it. Credentials are the hub clients' own: `hf auth login`, "
        "or `kagglehub.login()` / KAGGLE_USERNAME and KAGGLE_KEY. Needs "
        'pip install "keras-latent[hub]".',
    )
    parser.add_argument(
        "preset_dir",
        metavar="PRESET_DIR",
        help="a local preset folder, as save_to_preset writes it, with a "
        "README.md card",
    )
    parser.add_argument(
        "uri",
        metavar="URI",
        help="where to upload: hf://user/name or kaggle://owner/model/keras/variant",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the preset and list the files an upload would send; send nothing",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    """Checks `args.preset_dir` and uploads it to `args.uri`."""
    from keras_latent.hub import parse_upload_uri, upload_preset

    try:
        upload_preset(args.preset_dir, args.uri, dry_run=args.dry_run)
    except (ValueError, TypeError, ImportError) as e:
        # A preset that fails the checks, a malformed URI, a missing client:
        # nothing was sent.
        return fail(str(e))
    except Exception as e:
        # The checks passed; the hub refused (credentials, permissions) or
        # the network failed. The clients raise many types: say which.
        print(
            f"error: uploading to {args.uri} failed: {type(e).__name__}: {e}. "
            "Check the connection and the credentials "
            f"({parse_upload_uri(args.uri).login_hint}).",
            file=sys.stderr,
        )
        return UPLOAD_FAILED
    return 0
