"""The HTML loader: main text without site chrome, headings, tables with spans, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import UnreadableDocumentError
from ingest.html import clean_page_title, decode_html, is_chrome_line, load_html, nesting_depth, normalize_inline
from ingest.records import Block, LoadedFile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INSURANCE = FIXTURES / "教育部职成司关于印发《中等职业学校学生实习责任保险实施方案》的通知_教职成司函〔2010〕8号_pkulaw.html"
OUTLINE = FIXTURES / "国家中长期教育改革和发展规划纲要(2010―2020年)_pkulaw.html"

# Chrome of the pkulaw pages: citation code, source link, metadata box, link panels, ad.
PKULAW_CHROME = [
    "法宝引证码",
    "CLI.4.",
    "原文链接",
    "制定机关",
    "发文字号：",
    "时效性",
    "机构沿革",
    "本篇引用的法规",
    "引用本篇的法规",
    "中央法规",
    "地方法规规章",
]


def _all_text(loaded: LoadedFile) -> str:
    parts: list[str] = []
    for block in loaded.blocks:
        parts.append(block.text)
        parts.extend("|".join(row) for row in block.rows)
    return "\n".join(parts)


def _texts(loaded: LoadedFile) -> list[str]:
    return [block.text for block in loaded.blocks if block.kind != "table"]


@pytest.fixture(scope="module")
def insurance() -> LoadedFile:
    return load_html(INSURANCE)


@pytest.fixture(scope="module")
def outline() -> LoadedFile:
    return load_html(OUTLINE)


def test_pkulaw_chrome_is_gone(insurance: LoadedFile, outline: LoadedFile) -> None:
    for loaded in (insurance, outline):
        text = _all_text(loaded)
        for chrome in PKULAW_CHROME:
            assert chrome not in text, chrome
        assert "更多" not in _texts(loaded)  # the "more" link under each panel
    # Items of the "related documents" link lists.
    assert "北京市教育委员会关于在中等职业学校推行学生实习实训责任保险的通知" not in _all_text(insurance)
    assert "华某公司与尚某公司买卖合同纠纷二审民事判决书" not in _all_text(outline)
    assert "教育部关于组织申报国家教育体制改革试点的通知" not in _all_text(outline)


def test_insurance_page_text(insurance: LoadedFile) -> None:
    texts = _texts(insurance)
    assert insurance.title == "教育部职业教育与成人教育司关于印发《中等职业学校学生实习责任保险实施方案》的通知"
    assert texts[0] == insurance.title
    assert texts[1] == "（教职成司函〔2010〕8号）"
    assert texts[2] == "各省、自治区、直辖市教育厅（教委）、各计划单列市教育局、新疆生产建设兵团教育局、各有关单位："
    # Article headings are on their own lines (pkulaw's display:block anchors are breaks).
    for heading in ("一、保险方案", "二、风险管理机制", "（一）救助基金", "六、保费及保险金额", "1. 投保一年缴费办法"):
        assert heading in texts
    assert any(t.startswith("中等职业学校学生实习责任保险制度运行采取“保险＋基金”的模式。") for t in texts)
    # The inline link inside the text is kept as text.
    assert any("《关于在中等职业学校推行学生实习责任保险的通知》（教职成〔2009〕13号）" in t for t in texts)
    assert texts[-2:] == ["教育部职业教育与成人教育司", "2010年1月15日"]


def test_insurance_tables_have_merged_headers(insurance: LoadedFile) -> None:
    tables = [block for block in insurance.blocks if block.kind == "table"]
    assert len(tables) == 2
    header = (
        ("保费（元/人）", "顶岗实习责任及教学实训责任（主险及附加险）", "", "", "学生实习第三者责任（附加险）", ""),
        (
            "",
            "每个学生每年责任限额（万元）",
            "每个学生每年医疗费用责任限额（万元）",
            "每所学校每次事故责任限额（万元）",
            "每人责任限额（万元）",
            "累计责任限额（万元）",
        ),
    )
    assert tables[0].rows == (*header, ("70", "50", "5", "1200", "10", "100"))
    assert tables[1].rows == (*header, ("40", "50", "5", "1200", "10", "100"))
    # Each table sits between its 「投保…缴费办法」 line and the 注 under it.
    index = insurance.blocks.index(tables[0])
    assert insurance.blocks[index - 1].text == "1. 投保一年缴费办法"
    assert insurance.blocks[index + 1].text.startswith("注：每个学生每年医疗费用责任限额")


def test_outline_page(outline: LoadedFile) -> None:
    texts = _texts(outline)
    assert outline.title == "国家中长期教育改革和发展规划纲要(2010—2020年)"
    assert texts[0] == "国家中长期教育改革和发展规划纲要（2010-2020年）"
    assert "第六章\u3000职业教育" in texts
    assert "第二十一章\u3000重大项目和改革试点" in texts
    assert any(t.startswith("（十四）大力发展职业教育。") for t in texts)
    assert any("百年大计，教育为本。" in t for t in texts)
    assert texts[-1].startswith("广泛宣传动员，营造良好环境。")
    tables = [block for block in outline.blocks if block.kind == "table"]
    assert len(tables) == 2
    assert tables[0].rows[0] == ("指标", "单位", "2009年", "2015年", "2020年")
    # Items on separate source lines of one cell stay apart.
    assert tables[0].rows[1][0] == "学前教育 幼儿在园人数 学前一年毛入园率 学前两年毛入园率 学前三年毛入园率"
    assert tables[0].rows[1][2] == "2658 74.0 65.0 50.9"


NOISY_PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>关于开展产教融合实训基地建设的通知_通知公告_某某职业学院</title>
<script>var x = "脚本内容不应出现";</script><style>.a{color:red}</style></head>
<body>
<div class="header"><a href="/">首页</a><a href="/a">学院概况</a><a href="/b">机构设置</a></div>
<ul class="menu"><li><a href="/c">教学科研</a></li><li><a href="/d">招生就业</a></li></ul>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/n">通知公告</a></div>
<div class="wrap">
  <div class="main-left">
    <h1>关于开展产教融合实训基地建设的通知</h1>
    <div class="info">发布时间：2024-03-01 来源：教务处 浏览次数：128</div>
    <div class="article-content">
      <p>各二级学院：</p>
      <p>为深化产教融合，推进实训基地建设，现将有关事项通知如下。</p>
      <h2>一、建设目标</h2>
      <p>到2025年，建成校级产教融合实训基地10个，合作企业投入不低于
      500万元。</p>
      <p>基地负责人：张三<br>联系电话：1234567</p>
      <table>
        <caption>表1 经费安排</caption>
        <tr><th rowspan="2">项目</th><th colspan="2">经费（万元）</th></tr>
        <tr><th>学校</th><th>企业</th></tr>
        <tr><td>设备</td><td>50</td><td>30</td></tr>
      </table>
      <div class="related"><h3>相关文章</h3><a href="/x1">关于举办技能大赛的通知</a>
      <a href="/x2">关于公布优秀教材的通知</a><a href="/x3">关于做好招生工作的通知</a></div>
      <p>【打印本页】【关闭窗口】</p>
      <p>请登录后查看全文</p>
    </div>
  </div>
  <div class="sidebar"><h3>热点新闻</h3><ul><li><a href="/h1">学院召开工作会议</a></li>
  <li><a href="/h2">学院举办运动会</a></li></ul></div>
</div>
<div class="footer">版权所有：某某职业学院 地址：某某路1号 备案号：京ICP备12345678号</div>
</body></html>"""


@pytest.fixture
def noisy_page(tmp_path: Path) -> LoadedFile:
    path = tmp_path / "noisy.html"
    path.write_bytes(NOISY_PAGE.encode("gb18030"))
    return load_html(path)


def test_generic_page_main_content(noisy_page: LoadedFile) -> None:
    assert noisy_page.title == "关于开展产教融合实训基地建设的通知"
    blocks = noisy_page.blocks
    assert blocks[0] == Block(kind="heading", text="关于开展产教融合实训基地建设的通知", level=1)
    assert Block(kind="heading", text="一、建设目标", level=2) in blocks
    texts = _texts(noisy_page)
    assert "各二级学院：" in texts
    # The source line break inside the Chinese sentence is editor wrapping, not a space.
    assert "到2025年，建成校级产教融合实训基地10个，合作企业投入不低于500万元。" in texts
    # <br> ends a line.
    assert texts[texts.index("基地负责人：张三") :][:2] == ["基地负责人：张三", "联系电话：1234567"]
    text = _all_text(noisy_page)
    for chrome in (
        "脚本内容",
        "学院概况",
        "教学科研",
        "当前位置",
        "关于举办技能大赛的通知",
        "热点新闻",
        "学院召开工作会议",
        "版权所有",
        "打印本页",
        "请登录后查看全文",
        "浏览次数",
    ):
        assert chrome not in text, chrome


def test_generic_table_spans(noisy_page: LoadedFile) -> None:
    table = next(block for block in noisy_page.blocks if block.kind == "table")
    assert table.caption == "表1 经费安排"
    assert table.rows == (("项目", "经费（万元）", ""), ("", "学校", "企业"), ("设备", "50", "30"))


def test_encoding_detection() -> None:
    text = "<html><body><p>职业教育</p></body></html>"
    assert decode_html(text.encode("utf-8")) == (text, "utf-8")
    assert decode_html(text.encode("gb18030")) == (text, "gb18030")  # no meta: utf-8 fails
    declared = '<meta charset="gbk"><p>职业教育</p>'
    assert decode_html(declared.encode("gb18030"))[0] == declared
    # A page that declares utf-8 but is GBK is still read.
    lying = '<meta charset="utf-8"><p>职业教育</p>'
    assert decode_html(lying.encode("gb18030"))[0] == lying


def test_helpers() -> None:
    assert clean_page_title("关于印发《国家职业教育改革实施方案》的通知_国务院文件_中国政府网") == (
        "关于印发《国家职业教育改革实施方案》的通知"
    )
    assert clean_page_title("首页 - 某某职业技术学院") == "某某职业技术学院"
    assert clean_page_title("2010-2020年规划") == "2010-2020年规划"
    assert normalize_inline("  职业\n  教育 法\xa0 ") == "职业教育 法"
    assert is_chrome_line("【法宝引证码】 CLI.4.144243")
    assert is_chrome_line("分享到：微信 微博 | 打印 | 关闭")
    assert is_chrome_line("字号：大 中 小")
    assert not is_chrome_line("考生须登录报名系统完成注册。")
    assert not is_chrome_line("学校应当提供下载服务。")


def test_a_page_nested_past_any_real_page_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """100 000 nested <div> parse for minutes (quadratic) and hold the writer: refused at once."""
    bomb = tmp_path / "nested.html"
    bomb.write_text("<html><body>" + "<div>" * 100_000 + "正文" + "</div>" * 100_000 + "</body></html>", encoding="utf-8")
    with pytest.raises(UnreadableDocumentError, match="嵌套层级过深"):
        load_html(bomb)
    # unclosed paragraphs and list items (HTML lets a page leave their end tags out) are not deep
    page = "<html><body>" + "<p>段落" * 3000 + "<ul>" + "<li>条目" * 500 + "</ul></body></html>"
    assert nesting_depth(page) <= 2
