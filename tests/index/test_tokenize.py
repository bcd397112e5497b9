"""The lexical tokenizer: domain terms whole, search-mode sub-words, folding."""

from __future__ import annotations

import pytest

from index.tokenize import ChineseTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


def test_a_long_chinese_run_yields_several_tokens(tokenizer: ChineseTokenizer) -> None:
    tokens = tokenizer.tokens("产教融合实训基地")
    assert len(tokens) >= 2
    assert {"产教融合", "实训基地"} <= set(tokens)


DOMAIN = ["产教融合", "校企合作", "现代学徒制", "产业学院", "双师型", "1+x", "双高", "订单班", "职教集团"]


@pytest.mark.parametrize("term", DOMAIN)
def test_domain_terms_stay_whole(tokenizer: ChineseTokenizer, term: str) -> None:
    assert term in tokenizer.tokens(f"学院推进{term}工作")


def test_punctuation_and_spaces_are_dropped_and_width_folded(tokenizer: ChineseTokenizer) -> None:
    tokens = tokenizer.tokens("报到率为９２.１２％， 1+X 证书！")
    assert "，" not in tokens and " " not in tokens and "！" not in tokens
    assert "92.12%" in tokens or "92.12" in tokens
    assert "1+x" in tokens


def test_query_and_index_text_tokenize_alike(tokenizer: ChineseTokenizer) -> None:
    assert set(tokenizer.tokens("2020年报到率")) <= set(tokenizer.tokens("表1：2020年学院招生总体情况 报到率（%）：92.12"))


def test_extra_terms_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "清远职业技术学院" in ChineseTokenizer(extra_terms=["清远职业技术学院"]).tokens("清远职业技术学院2020年")
