"""Model card, written out: the same sections as Markdown or as a standalone HTML page.

Every piece of text is escaped for its format (html.escape for HTML; Markdown's markup
characters backslash-escaped), so a run id, a status message or a data source can only
ever show as text. Formatting comes from the renderer alone.
"""

from __future__ import annotations

import html
import re

from cifar_core.bias_privacy.content import Reference
from cifar_core.export.card_types import ModelCard, Section

# Characters that start Markdown markup (CommonMark and GitHub's tables and strike-through);
# "<" and ">" become entities instead, so raw HTML never appears, even to a renderer that
# ignores backslash escapes, and an "&" that would start an entity is written as one.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~!{}])")
MARKDOWN_ENTITIES = (
    (re.compile(r"&(?=#?\w+;)"), "&amp;"),
    (re.compile("<"), "&lt;"),
    (re.compile(">"), "&gt;"),
)
# The page's style: readable on screen and when printed, no external resources.
CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
  background: #fff; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .75rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid #e3e3e3; }
.intro { color: #444; }
.missing { background: #fff4e5; border-left: 4px solid #e08a00; padding: .5rem 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid #e3e3e3; }
table.facts th { width: 13rem; font-weight: 600; color: #333; }
table.data thead th { background: #f4f4f4; }
li { margin: .25rem 0; }
.references li { font-size: .92rem; }
a { color: #0b57d0; word-break: break-all; }
@media print { main { padding: 0; } a { color: inherit; } }
"""
# No script, image, font or connection may load: the page is text and its own style.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def markdown_text(text: str) -> str:
    """One line of plain text for Markdown: whitespace (newlines) collapsed, markup escaped."""
    text = MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    for pattern, entity in MARKDOWN_ENTITIES:
        text = pattern.sub(entity, text)
    return text


def _reference_text(ref: Reference) -> tuple[str, str, str]:
    return f"{ref.key}. {ref.authors} ({ref.year}).", ref.title, f"{ref.venue}."


def _section_markdown(section: Section) -> list[str]:
    lines = [f"## {markdown_text(section.title)}", ""]
    if section.facts:
        lines += ["| | |", "|---|---|"]
        lines += [
            f"| **{markdown_text(label)}** | {markdown_text(value)} |"
            for label, value in section.facts
        ]
        lines.append("")
    if section.table is not None:
        lines.append("| " + " | ".join(markdown_text(h) for h in section.table.header) + " |")
        lines.append("|" + "---|" * len(section.table.header))
        lines += [
            "| " + " | ".join(markdown_text(cell) for cell in row) + " |"
            for row in section.table.rows
        ]
        lines.append("")
    for paragraph in section.paragraphs:
        lines += [markdown_text(paragraph), ""]
    if section.bullets:
        lines += [f"- {markdown_text(item)}" for item in section.bullets]
        lines.append("")
    return lines


def card_markdown(card: ModelCard) -> str:
    """The card as a Markdown document (GitHub-flavoured tables).

    Args:
        card: from `model_card`.

    Returns:
        The document's text; every value is escaped, so it renders as the text it holds.
    """
    lines = [f"# {markdown_text(card.title)}", "", markdown_text(card.intro), ""]
    if card.missing:
        lines += ["**Missing from this run:**", ""]
        lines += [f"- {markdown_text(item)}" for item in card.missing]
        lines.append("")
    for section in card.sections:
        lines += _section_markdown(section)
    lines += ["## References", ""]
    for i, ref in enumerate(card.references, 1):
        head, title, venue = (markdown_text(part) for part in _reference_text(ref))
        lines.append(f"{i}. {head} *{title}*. {venue} <{ref.url}>")
    return "\n".join(lines) + "\n"


def _e(text: object) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def _section_html(section: Section) -> list[str]:
    anchor = _e(section.key.replace("_", "-"))
    out = [f'<section id="{anchor}">', f"<h2>{_e(section.title)}</h2>"]
    if section.facts:
        out.append('<table class="facts"><tbody>')
        out += [
            f'<tr><th scope="row">{_e(label)}</th><td>{_e(value)}</td></tr>'
            for label, value in section.facts
        ]
        out.append("</tbody></table>")
    if section.table is not None:
        header = "".join(f'<th scope="col">{_e(h)}</th>' for h in section.table.header)
        out.append(f'<table class="data"><thead><tr>{header}</tr></thead><tbody>')
        out += [
            "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
            for row in section.table.rows
        ]
        out.append("</tbody></table>")
    out += [f"<p>{_e(paragraph)}</p>" for paragraph in section.paragraphs]
    if section.bullets:
        out += ["<ul>", *(f"<li>{_e(item)}</li>" for item in section.bullets), "</ul>"]
    out.append("</section>")
    return out


def card_html(card: ModelCard) -> str:
    """The card as one standalone HTML page: inline CSS, no script, no external resource.

    Args:
        card: from `model_card`.

    Returns:
        The page's text; every value goes through html.escape.
    """
    body = [f"<h1>{_e(card.title)}</h1>", f'<p class="intro">{_e(card.intro)}</p>']
    if card.missing:
        items = "".join(f"<li>{_e(item)}</li>" for item in card.missing)
        body.append(
            f'<div class="missing"><strong>Missing from this run:</strong><ul>{items}</ul></div>'
        )
    for section in card.sections:
        body += _section_html(section)
    body += ['<section id="references" class="references">', "<h2>References</h2>", "<ol>"]
    for ref in card.references:
        head, title, venue = (_e(part) for part in _reference_text(ref))
        url = _e(ref.url)
        body.append(f'<li>{head} <em>{title}</em>. {venue} <a href="{url}">{url}</a></li>')
    body += ["</ol>", "</section>"]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(card.title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
