"""The `/_emulator/` control API (health now; reset, records, history, deliver come later)."""
from __future__ import annotations

from importlib import metadata

from flask import Blueprint, current_app, jsonify

from emulator.state import EXTENSION_KEY

control = Blueprint("control", __name__, url_prefix="/_emulator")


def _version() -> str:
    try:
        return metadata.version("cloudtrail-emulator")
    except metadata.PackageNotFoundError:
        return "unknown"


@control.get("/health")
def health():
    state = current_app.extensions[EXTENSION_KEY]
    return jsonify({
        "status": "ok",
        "version": _version(),
        "data_dir": str(state.config.data_dir) if state.config.data_dir else ":memory:",
        "services": {"cloudtrail": sorted(state.cloudtrail_api.implemented),
                     "organizations": sorted(state.organizations_api.implemented),
                     "s3": state.s3_api is not None},
    })
