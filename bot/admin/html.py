"""Server-rendered pages without a template engine: every value is escaped unless it is
already `Html`, so officer- or citizen-written text can never become markup."""

from __future__ import annotations

import html
from collections.abc import Iterable

from bot.local_time import local_time  # noqa: F401 (pages import it with the other helpers)


class Html(str):
    """Markup that is safe to insert as it is (built by this module)."""


AXIS_LABELS = 8  # the most day labels under a bar chart: more would overlap


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value)))


def h(template: str, **values: object) -> Html:
    """`template` (trusted, written here) with every value escaped."""
    return Html(template.format(**{name: esc(value) for name, value in values.items()}))


def join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(separator.join(esc(part) for part in parts))


def table(
    headers: list[str],
    rows: Iterable[list[object]],
    row_classes: Iterable[str] = (),
    *,
    empty: str,
) -> Html:
    """Rows under `headers` (no heading row when they are all empty), `empty` said when
    there is none. A table too wide for the screen scrolls sideways in its own box, never
    the whole page."""
    classes = list(row_classes)
    head = Html("")
    if any(headers):
        cells = join(h("<th>{v}</th>", v=header) for header in headers)
        head = h("<thead><tr>{cells}</tr></thead>", cells=cells)
    body = []
    for n, row in enumerate(rows):
        cells = join(h("<td>{v}</td>", v=cell) for cell in row)
        css = classes[n] if n < len(classes) else ""
        body.append(h('<tr class="{css}">{cells}</tr>', css=css, cells=cells))
    if not body:
        return _empty(empty)
    return h(
        '<div class="tablebox"><table>{head}<tbody>{body}</tbody></table></div>',
        head=head,
        body=join(body),
    )


def _empty(text: str) -> Html:
    return h('<p class="empty">{text}</p>', text=text)


def link(href: str, text: object) -> Html:
    return h('<a href="{href}">{text}</a>', href=href, text=text)


def badge(text: str, kind: str = "") -> Html:
    return h('<span class="badge {kind}">{text}</span>', kind=kind, text=text)


def csrf_field(token: str) -> Html:
    return h('<input type="hidden" name="csrf" value="{token}">', token=token)


def post_button(action: str, label: str, csrf: str, kind: str = "") -> Html:
    """A one-button form (POST, with the CSRF token)."""
    return h(
        '<form method="post" action="{action}" class="inline">{csrf}'
        '<button type="submit" class="{kind}">{label}</button></form>',
        action=action,
        csrf=csrf_field(csrf),
        kind=kind,
        label=label,
    )


def bar_chart(title: str, bars: list[tuple[str, float]], unit: str = "") -> Html:
    """Vertical bars (one per day, say), as inline SVG: no script, prints well. At most
    `AXIS_LABELS` labels under the bars, each kept inside the drawing (none is clipped)."""
    width, height, left, right, top_pad, bottom_pad = 640, 200, 40, 24, 12, 28
    top = max((value for _, value in bars), default=0) or 1
    step = (width - left - right) / max(len(bars), 1)
    base = height - bottom_pad
    every = -(-len(bars) // AXIS_LABELS)  # ceiling: 30 days → every 4th day
    shapes = [
        h(
            '<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" class="baseline"/>',
            x=left,
            x2=width - right,
            y=base,
        ),
        h(
            '<text x="{x}" y="{y}" class="axis top">{top}{unit}</text>',
            x=left - 6,
            y=top_pad + 10,
            top=f"{top:g}",
            unit=unit,
        ),
        h('<text x="{x}" y="{y}" class="axis top">0</text>', x=left - 6, y=base),
    ]
    for n, (label, value) in enumerate(bars):
        bar_height = (base - top_pad) * value / top
        x = left + n * step
        shapes.append(
            h(
                '<rect x="{x}" y="{y}" width="{w}" height="{bh}"><title>{label}: {value}{unit}'
                "</title></rect>",
                x=f"{x + step * 0.1:.1f}",
                y=f"{base - bar_height:.1f}",
                w=f"{step * 0.8:.1f}",
                bh=f"{bar_height:.1f}",
                label=label,
                value=f"{value:g}",
                unit=unit,
            )
        )
        if n % every == 0:
            shapes.append(
                h(
                    '<text x="{x}" y="{y}" class="axis">{label}</text>',
                    x=f"{x + step / 2:.1f}",
                    y=height - 8,
                    label=label,
                )
            )
    return h(
        '<figure class="chart"><figcaption>{title}</figcaption>'
        '<svg viewBox="0 0 {w} {ht}" role="img" aria-label="{title}">{shapes}</svg></figure>',
        title=title,
        w=width,
        ht=height,
        shapes=join(shapes),
    )


def hbar_chart(title: str, bars: list[tuple[str, float]], *, empty: str, unit: str = "") -> Html:
    """Horizontal bars with their labels (top intents, satisfaction); the bar is SVG, so
    the page needs no inline style (the Content-Security-Policy forbids it)."""
    top = max((value for _, value in bars), default=0) or 1
    rows = [
        h(
            '<div class="hbar"><span class="hlabel">{label}</span>'
            '<svg class="hbarfill" viewBox="0 0 100 10" preserveAspectRatio="none"'
            ' aria-hidden="true"><rect width="{pct}" height="10"/></svg>'
            '<span class="hvalue">{value}{unit}</span></div>',
            label=label,
            pct=f"{100 * value / top:.1f}",
            value=f"{value:g}",
            unit=unit,
        )
        for label, value in bars
    ]
    if not rows:
        rows = [_empty(empty)]
    return h(
        '<figure class="chart"><figcaption>{title}</figcaption>{rows}</figure>',
        title=title,
        rows=join(rows),
    )


# Served as /admin/style.css: the Content-Security-Policy allows no inline style.
STYLE = """
body{font-family:system-ui,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1d2733;
background:#f4f6f8;font-size:15px}
header{background:#0b5394;color:#fff;padding:10px 20px;display:flex;align-items:center;
gap:18px;flex-wrap:wrap}
header .brand{font-weight:700;margin-right:10px}
header a{color:#fff;text-decoration:none;padding:4px 6px;border-radius:4px}
header a.current{background:rgba(255,255,255,.2)}
header .who{margin-left:auto;font-size:13px}
header .count{display:inline-block;min-width:18px;margin-left:5px;padding:0 6px;
border-radius:9px;background:#f9a825;color:#1d2733;font-size:12px;font-weight:700;
text-align:center}
main{padding:18px 24px;max-width:1180px}
h1{font-size:22px;margin:4px 0 14px}
h2{font-size:17px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
.tablebox{overflow-x:auto;margin-bottom:14px}
th,td{border-bottom:1px solid #dde3ea;padding:7px 9px;text-align:left;vertical-align:top}
th{background:#e8eef5;font-weight:600}
tr.overdue td{background:#fde8e8}
.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#e0e6ee;font-size:13px}
.badge.red{background:#c62828;color:#fff}.badge.green{background:#2e7d32;color:#fff}
.badge.amber{background:#f9a825}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px 16px;
margin:0 0 14px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:14px}
.cards .card{flex:1 1 170px;margin:0}.cards .num{font-size:24px;font-weight:700}
.cards .label{font-size:13px;color:#4b5968}
form.inline{display:inline}
button{background:#0b5394;color:#fff;border:0;border-radius:4px;padding:7px 14px;
font-size:14px;cursor:pointer}
button.secondary{background:#5f6b7a}button.danger{background:#c62828}
input,select,textarea{font:inherit;padding:6px;border:1px solid #b8c2cc;border-radius:4px}
textarea{width:100%;min-height:110px;box-sizing:border-box}
label{display:block;margin:8px 0 4px;font-weight:600}
label.choice{display:inline;font-weight:400;margin-right:12px}
.narrow{max-width:360px}.medium{max-width:520px}
.warning{background:#fff4d6;border:1px solid #f9a825;padding:8px 12px;border-radius:4px}
.error{background:#fde8e8;border:1px solid #c62828;padding:8px 12px;border-radius:4px}
.notice{background:#e8f5e9;border:1px solid #2e7d32;padding:8px 12px;border-radius:4px}
.empty{color:#6b7785;font-style:italic}
.chat{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:10px;
max-height:480px;overflow:auto;margin-bottom:14px}
.msg{margin:6px 0;max-width:75%;padding:7px 10px;border-radius:8px;white-space:pre-wrap}
.msg.citizen{background:#e8eef5}.msg.oa{background:#dff0d8;margin-left:auto}
.msg small{display:block;color:#6b7785;font-size:11px}
figure.chart{background:#fff;border:1px solid #dde3ea;border-radius:6px;margin:0 0 14px;
padding:10px}
figure.chart figcaption{font-weight:600;margin-bottom:6px}
svg rect{fill:#3d85c6}svg text.axis{font-size:14px;fill:#4b5968;text-anchor:middle}
svg text.axis.top{text-anchor:end}svg line.baseline{stroke:#b8c2cc}
.hbar{display:flex;align-items:center;gap:8px;margin:3px 0}
.hlabel{flex:0 0 220px;font-size:13px}.hbarfill{flex:1 1 auto;height:14px;min-width:0}
.hvalue{flex:0 0 48px;font-size:13px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.filters a{margin-right:10px}
pre{white-space:pre-wrap;font-family:inherit;margin:0}
figure.chart svg{display:block;max-width:640px}
@media print{header,.noprint{display:none}body{background:#fff}}
"""
