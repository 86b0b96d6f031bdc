"""The interactive network of an enterprise: pyvis builds it, an offline template shows it.

pyvis 0.3.2's own template always links Bootstrap from a CDN, and puts node data into the
page with ``|safe``; neither is acceptable here. So pyvis (``cdn_resources="in_line"``) is used
to build nodes, edges and options, and :func:`render_html` writes a self-contained page:

* the vis-network JS and CSS shipped inside the pyvis package are inlined (nothing is fetched;
  :func:`external_urls` checks that no ``<script src>``/``<link href>`` points anywhere);
* data travels as JSON with ``<``, ``>``, ``&`` and quotes escaped as ``\\u00XX``, so no value
  can close the script tag;
* labels are drawn on the canvas (plain text) and tooltips are built as DOM elements with
  ``textContent`` — vis-network would otherwise inject string tooltips as HTML — so a name
  like ``<img src=x onerror=alert(1)>`` shows as text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from pyvis.network import Network as PyvisNetwork

from dashboards.data import Network
from dashboards.i18n import shown_name, t

LEVEL_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e6c300",
                 "blue": "#1f77b4", "none": "#9e9e9e"}
KIND_COLOURS = {"Person": "#6a3d9a", "Party": "#b15928", "Address": "#33a02c",
                "Phone": "#33a02c", "Group": "#17becf"}
OTHER_COLOUR = "#8c8c8c"
OUTSIDE_COLOUR = "#d9d9d9"
ENDED_COLOUR = "#b0b0b0"
_EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*"
                       r"(?:https?:)?//", re.IGNORECASE)


@lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    """The vis-network JS of the pyvis package, and the only CSS rule the view needs.

    The full vis-network.css (220 kB, mostly base64 images of the navigation buttons and the
    colour picker, both unused here) is reduced to its tooltip rule.
    """
    lib = resources.files("pyvis").joinpath("lib/vis-9.1.2")
    js = lib.joinpath("vis-network.min.js").read_text(encoding="utf-8")
    css = lib.joinpath("vis-network.css").read_text(encoding="utf-8")
    tooltip = re.findall(r"div\.vis-tooltip\{[^{}]*\}", css)
    return js.replace("</script", "<\\/script"), "".join(tooltip).replace("</style", "")


def safe_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _node_colour(node: dict[str, Any]) -> str:
    if not node.get("visible", True):
        return OUTSIDE_COLOUR
    if node.get("label") == "Enterprise":
        return LEVEL_COLOURS.get(str(node.get("level") or "none"), LEVEL_COLOURS["none"])
    return KIND_COLOURS.get(str(node.get("label")), OTHER_COLOUR)


def _node_text(node: dict[str, Any], lang: str) -> tuple[str, str]:
    kind = t(f"kind.{node.get('label')}", lang)
    if not node.get("visible", True):  # a placeholder of the data layer (外县企业, 外县人员, …)
        name = shown_name(node.get("name"), lang) if node.get("name") else t("scope.outside",
                                                                              lang)
        return name, f"{name}\n{kind}"
    name = str(node.get("name") or node.get("key") or kind)
    lines = [name, kind]
    if node.get("key") and node.get("key") != name:
        lines.append(str(node["key"]))
    if node.get("score") is not None:
        level = t(f"level.{node.get('level') or 'none'}", lang)
        lines.append(f"{t('col.score', lang)} {node['score']:.1f} · {level}")
    if node.get("ended"):
        lines.append(t("network.ended_on", lang, date=node["ended"]))
    label = name if len(name) <= 16 else name[:15] + "…"
    return label, "\n".join(lines)


def _edge_style(edge: dict[str, Any], lang: str) -> dict[str, Any]:
    """Label, tooltip and look of an edge: an ended link (history, not scored) is dashed and
    grey, with its end in the tooltip."""
    text = t(f"rel.{edge['type']}", lang)
    if edge.get("ratio") is not None:
        text += f" {float(edge['ratio']):.0%}"
    if not edge.get("ended"):
        return {"label": text, "title": text}
    label = f"{text} ({t('network.ended', lang)})"
    return {"label": label, "title": f"{label}\n{t('network.ended_on', lang, date=edge['ended'])}",
            "dashes": True, "color": ENDED_COLOUR}


def build(net: Network, lang: str = "zh") -> PyvisNetwork:
    """A pyvis network of ``net``: colour by level, edge labels by type, ended links
    dashed."""
    graph = PyvisNetwork(height="560px", width="100%", directed=True, cdn_resources="in_line")
    for node in net.nodes.values():
        label, title = _node_text(node, lang)
        shape = "dot" if node.get("label") in ("Person", "Party") else "box"
        if node.get("label") == "Enterprise":
            shape = "ellipse"
        graph.add_node(node["id"], label=label, title=title, color=_node_colour(node),
                       shape=shape, size=12, borderWidth=4 if node["id"] == net.centre else 1,
                       font={"color": "#111111" if shape != "ellipse" else "#ffffff"})
    for edge in net.edges:
        if edge["from"] not in net.nodes or edge["to"] not in net.nodes:
            continue
        graph.add_edge(edge["from"], edge["to"], arrows="to", **_edge_style(edge, lang))
    graph.set_options(json.dumps({
        "physics": {"stabilization": {"iterations": 150},
                    "barnesHut": {"springLength": 140}},
        "edges": {"font": {"size": 10, "align": "middle"}, "smooth": False},
        "nodes": {"font": {"size": 13}},
        "interaction": {"hover": True, "navigationButtons": False},
    }))
    return graph


CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<style>{css}</style>
<style>html,body{{margin:0;padding:0;font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;}}
#net{{width:100%;height:{height};border:1px solid #ddd;}}
.vis-tooltip{{white-space:pre-line;}}</style>
</head><body><div id="net"></div>
<script>{js}</script>
<script>
(function () {{
  var nodes = {nodes};
  var edges = {edges};
  var options = {options};
  function asText(value) {{
    var el = document.createElement("div");
    el.textContent = value == null ? "" : String(value);
    return el;
  }}
  nodes.forEach(function (n) {{ n.title = asText(n.title); }});
  edges.forEach(function (e) {{ e.title = asText(e.title); }});
  var data = {{nodes: new vis.DataSet(nodes), edges: new vis.DataSet(edges)}};
  window.riskgraphNetwork = new vis.Network(document.getElementById("net"), data, options);
  document.body.setAttribute("data-nodes", String(nodes.length));
}})();
</script></body></html>
"""


def render_html(net: Network, lang: str = "zh", height: str = "560px") -> str:
    """A self-contained HTML page showing ``net``; loads nothing from anywhere."""
    graph = build(net, lang)
    js, css = _vis_assets()
    options = json.loads(graph.options.to_json()) if hasattr(graph.options, "to_json") \
        else graph.options
    nodes = list(graph.nodes)
    return _TEMPLATE.format(css=css, js=js, nodes=safe_json(nodes),
                            edges=safe_json(graph.edges), options=safe_json(options),
                            height=height, csp=CSP)


def external_urls(html: str) -> list[str]:
    """Script/link/img/iframe tags of ``html`` that point at another host (should be [])."""
    return _EXTERNAL.findall(html)
