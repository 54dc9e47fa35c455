"""The email's HTML part: the web page's content in a mail-safe frame (export/mailhtml.py),
and the checks tests/_mail.py runs on every message, shown able to fail."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from _mail import check_message, html_blocks, html_problems, parse, tree
from _publishing import FIXTURE_ARCHIVE
from conftest import Invoke

from ecdigest.archive import Archive
from ecdigest.export import email as email_export
from ecdigest.export import mailhtml
from ecdigest.model import Issue, Newsletter


def fixture_issue() -> tuple[Issue, Newsletter]:
    archive = Archive.open(FIXTURE_ARCHIVE)
    return archive.get("2023-06").issue, archive.settings


def html_of(message: email_export.Message) -> str:
    return message.parts[1].text


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ("<p>ok</p><img src='https://t.example/p.gif'>", "element <img>"),
        ("<p>ok</p><script>alert(1)</script>", "element <script>"),
        ("<style>p{color:red}</style><p>x</p>", "element <style>"),
        ("<p onclick='x()'>x</p>", "<p onclick>"),
        ("<p class='a'>x</p>", "<p class>"),
        ('<p style="background:url(https://t.example/x)">x</p>', "loads something"),
        ('<p style="background-image: image-set(&quot;x.png&quot; 1x)">x</p>', "loads something"),
        ('<a href="javascript:alert(1)">x</a>', "link 'javascript:alert(1)'"),
        ('<a href="#nowhere">x</a>', "link '#nowhere'"),
        ("<p>x</div>", "parse error"),
        ("<p>a\ufdd0b</p>", "parse error"),
    ],
)
def test_the_html_checker_catches_what_it_should(markup: str, found: str) -> None:
    page = f"<!doctype html><html lang=zh-CN><head><title>t</title></head><body>{markup}</body></html>"
    problems = html_problems(page)
    assert any(found in problem for problem in problems), problems


def test_the_checker_passes_the_template_and_an_in_message_anchor() -> None:
    page = '<!doctype html><html><head><title>t</title></head><body><p><a href="#x">x</a></p><div><a id="x" name="x"></a></div></body></html>'
    assert html_problems(page) == []


def test_mail_safe_renames_what_clients_strip_and_keeps_text_escaped() -> None:
    page = (
        '<nav class="toc" aria-labelledby="h"><h2 id="h">目录</h2><a href="#a-1">标题</a></nav>'
        '<article class="article" id="a-1" aria-labelledby="a-1-title"><h3 id="a-1-title" style="font-family:\'PingFang SC\'">'
        '&lt;script&gt;x&lt;/script&gt; &amp;amp; “引号”</h3><p>A &lt; B <time datetime="2023-05-01">2023 年</time></p></article>'
        "<!--[if mso]><table><tr><td><![endif]-->"
    )
    safe = mailhtml.mail_safe(page)
    assert safe == (
        '<div><h2>目录</h2><a href="#a-1">标题</a></div>'
        '<div><a id="a-1" name="a-1"></a><h3 style="font-family:\'PingFang SC\'">'
        "&lt;script&gt;x&lt;/script&gt; &amp;amp; “引号”</h3><p>A &lt; B <span>2023 年</span></p></div>"
        "<!--[if mso]><table><tr><td><![endif]-->"
    )


def test_the_html_part_holds_the_cut_and_says_so() -> None:
    issue, settings = fixture_issue()
    message = email_export.compose(issue, settings, max_articles=2)
    shown = email_export.kept(issue, settings, 2)
    assert [a.id for a in shown.articles] == ["2023-06-001", "2023-06-002"]
    check_message(message.data, shown, settings)
    html = html_of(message)
    blocks = html_blocks(html)
    assert "超长的拉丁单词与网址不会被拆开" not in blocks  # the third article is not in the email
    assert any("共 4 篇" in b and "本邮件收录前 2 篇" in b for b in blocks), blocks[:3]
    assert "本期另有 2 篇文章未收入邮件，请阅读网页版：https://example.org/ecd/2023-06.html" in blocks
    # and the text part says the same
    text = message.parts[0].text
    assert "本期另有 2 篇文章未收入邮件" in text and "本邮件收录前 2 篇" in text


def test_the_preheader_is_the_first_titles_and_hidden() -> None:
    issue, settings = fixture_issue()
    html = html_of(email_export.compose(issue, settings))
    first = tree(html).find("body").find("div")
    assert "display:none" in first.get("style") and "mso-hide:all" in first.get("style")
    titles = [email_export.title_of(a) for _, group in issue.by_section(settings.sections) for a in group][:3]
    assert first.text == " · ".join(titles)
    long = dataclasses.replace(
        issue, articles=tuple(dataclasses.replace(a, title="很长的标题" * 20) for a in issue.articles)
    )
    text = tree(html_of(email_export.compose(long, settings))).find("body").find("div").text
    assert len(text) == mailhtml.PREHEADER_CHARS and text.endswith("…")


def test_a_draft_is_a_proof_in_the_html_part_too() -> None:
    issue, settings = fixture_issue()
    draft = dataclasses.replace(issue, status="draft")
    blocks = html_blocks(html_of(email_export.compose(draft, settings, to=["me@example.org"])))
    assert blocks[0] == "【样稿】草稿未发布，仅供校对"
    assert "【样稿】" not in "".join(html_blocks(html_of(email_export.compose(issue, settings))))


def test_the_archives_templates_style_the_email_too(invoke: Invoke, tmp_path: Path) -> None:
    """`ARCHIVE/templates/` overrides the email's templates as it does the site's."""
    archive = tmp_path / "styled"
    shutil.copytree(FIXTURE_ARCHIVE, archive, ignore=shutil.ignore_patterns(".ecdigest"))
    templates = archive / "templates"
    templates.mkdir()
    css = (Path(mailhtml.__file__).parent.parent / "site" / "templates" / "email.css").read_text("utf-8")
    (templates / "email.css").write_text(css.replace("#a12a24", "#123456"), "utf-8")
    result = invoke("export", "email", "2023-06", "--eml", archive=archive)
    assert result.exit_code == 0, result.output
    html = parse(result.stdout_bytes).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "color:#123456" in html and "#a12a24" not in html
    out = tmp_path / "site"
    assert invoke("build", "-o", str(out), archive=archive).exit_code == 0
    built = parse((out / "email" / "2023-06.eml").read_bytes()).get_body(("html",))
    assert built is not None and built.get_content() == html


def test_noncharacters_in_article_text_never_reach_either_part() -> None:
    """U+FDD0 and a plane's last code points are HTML parse errors: dropped with the controls."""
    issue, settings = fixture_issue()
    odd = "正文\ufdd0里有\U0001fffe非字符\U0010ffff。"
    article = dataclasses.replace(issue.articles[0], title="标题\ufdef", body=odd)
    changed = dataclasses.replace(issue, articles=(article, *issue.articles[1:]))
    message = email_export.compose(changed, settings)
    check_message(message.data, changed, settings)
    assert "正文里有非字符。" in html_blocks(html_of(message))
    assert "\ufdd0" not in message.parts[0].text and "\U0010ffff" not in message.parts[0].text
