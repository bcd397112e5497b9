"""A write's progress as people see it: files, pages, chunks embedded with a measured rate."""

from __future__ import annotations

import time

from app.jobs import WriteProgress


def test_progress_counts_files_pages_and_chunks_and_measures_only_embedding() -> None:
    progress = WriteProgress(files_total=2)
    assert progress.describe() == "文件 1/2"
    progress.on_page(3, 8, ocr=True)
    assert progress.describe() == "文件 1/2 · OCR 识别第 3/8 页"
    progress.stage("parsed", 100)
    progress.file_done()
    time.sleep(0.3)  # reading the next file is no embedding time
    progress.stage("parsed", 50)
    progress.file_done()
    progress.stage("embed", 150)
    progress.embedded(64)
    assert progress.rate is None  # nothing to measure yet (under half a second)
    progress.embed_seconds = 2.0  # as if the 64 took two seconds of embedding
    record = progress.to_dict()
    assert (record["chunks_done"], record["chunks_total"], record["rate"]) == (64, 150, 32.0)
    assert record["seconds_left"] == round(86 / 32, 1)
    assert record["text"] == "文件 2/2 · 嵌入 64/150 个片段（每秒 32 个，约剩 3 秒）"
    progress.embedded(86)
    assert progress.to_dict()["seconds_left"] == 0.0
