"""Sentence splitting, packing and chunk provenance."""

from __future__ import annotations

from ingest.chunk import Chunker, pack_sentences, split_long, split_sentences
from ingest.pipeline import build_document
from ingest.records import Block, LoadedFile


def test_split_sentences_on_chinese_punctuation_with_offsets() -> None:
    text = "产业学院实行理事会领导下的院长负责制。设院长1名，副院长若干名！\n（三）合作共赢原则"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "产业学院实行理事会领导下的院长负责制。",
        "设院长1名，副院长若干名！",
        "（三）合作共赢原则",
    ]


def test_a_line_wrapped_inside_a_sentence_does_not_end_it() -> None:
    """PDF text wraps lines anywhere: a line that stops on a comma or inside an open bracket goes on;
    a heading line or a list item still ends at its line break."""
    text = (
        "学生主要来自江苏（580人，占比\n31.20%）、浙江（210人，占比11.30%），\n其余来自中西部。\n二、就业情况\n"
        "（一）总体就业率为\n96.20%。\n1.本科生\n2.专科生\n主要为“继续深造”\n（占比40.10%）。\n（二）离职率"
    )
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "学生主要来自江苏（580人，占比\n31.20%）、浙江（210人，占比11.30%），\n其余来自中西部。",
        "二、就业情况",
        "（一）总体就业率为\n96.20%。",
        "1.本科生",
        "2.专科生",
        "主要为“继续深造”\n（占比40.10%）。",
        "（二）离职率",
    ]


def test_closing_quote_stays_with_its_sentence() -> None:
    text = "以“合作办学、合作育人。”为引导。下一句。"
    assert [text[s:e] for s, e in split_sentences(text)] == ["以“合作办学、合作育人。”", "为引导。", "下一句。"]


def test_split_long_prefers_semicolons_then_commas_then_words() -> None:
    text = "甲" * 40 + "；" + "乙" * 40 + "，" + "丙" * 40
    parts = split_long(text, (0, len(text)), 50)
    assert all(e - s <= 50 for s, e in parts)
    assert text[parts[0][0] : parts[0][1]].endswith("；")
    # a hard cut falls on a jieba word boundary, never inside 产教融合
    text = "产教融合" * 30
    parts = split_long(text, (0, len(text)), 50)
    assert all((e - s) % 4 == 0 for s, e in parts[:-1])


def test_pack_sentences_respects_the_limit_and_merges_a_short_tail() -> None:
    spans = [(0, 100), (100, 200), (200, 290), (290, 310)]
    assert pack_sentences(spans, 200) == [(0, 200), (200, 310)]
    assert pack_sentences([(0, 190), (190, 380), (380, 400)], 200) == [(0, 190), (190, 400)]


def test_chunks_stay_inside_sections_and_quote_the_canonical_text() -> None:
    body = "学院2020年计划招生5897人。" * 30
    loaded = LoadedFile(
        source="t.txt",
        format="txt",
        blocks=(Block("text", f"一、基本情况\n{body}\n二、工作举措\n（一）推进职教集团实体化运作\n对接广东省先进制造业基地。"),),
    )
    doc = build_document(loaded, "d")
    chunks = Chunker(max_chars=120).chunk(doc)
    assert all(c.text == doc.text[c.start : c.end] for c in chunks)
    assert all(len(c.text) <= 120 for c in chunks)
    assert {c.section_path for c in chunks} == {("一、基本情况",), ("二、工作举措", "（一）推进职教集团实体化运作")}
    # no chunk crosses a heading
    starts = [h.start for h in doc.headings]
    assert not any(c.start < s < c.end for c in chunks for s in starts)
    # context = title + path + text; text is the bare slice
    last = chunks[-1]
    assert last.context.endswith(last.text) and "二、工作举措 › （一）推进职教集团实体化运作" in last.context


def test_chunk_ids_are_stable_and_unique() -> None:
    loaded = LoadedFile(source="t.txt", format="txt", blocks=(Block("text", "一、甲\n内容一。\n二、乙\n内容一。"),))
    doc = build_document(loaded, "d")
    first = Chunker().chunk(doc)
    again = Chunker().chunk(build_document(loaded, "d"))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    # the same sentence in two places gets two ids and two different offsets
    assert len({c.chunk_id for c in first}) == len(first) == 2
    assert first[0].start != first[1].start
