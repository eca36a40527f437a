// Assets.swift: the stylesheet and the one script, served as files (/assets/…): the
// Content-Security-Policy allows no inline style or script. Nothing is loaded from elsewhere.

enum Assets {
    static let files: [String: (type: String, body: String)] = [
        "app.css": ("text/css; charset=utf-8", css),
        "search.js": ("text/javascript; charset=utf-8", searchJS),
    ]

    /// Light and dark schemes; text contrast at least 4.5:1 on its background in both.
    static let css = """
        :root {
          --bg: #fbfbfa; --fg: #1d1f23; --muted: #50555e; --line: #d5d8dd; --card: #ffffff;
          --accent: #1f5fbf; --gain: #1d7a3a; --loss: #b3261e; --warn-bg: #fff4d6; --warn-fg: #5c4300;
          --focus: #ffbf47;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #15171a; --fg: #e8eaed; --muted: #b1b6bf; --line: #3a3f46; --card: #1e2125;
            --accent: #8ab4f8; --gain: #6fcf8f; --loss: #f28b82; --warn-bg: #3d3112; --warn-fg: #ffe08a;
          }
        }
        * { box-sizing: border-box; }
        html { font-size: 100%; }
        body { margin: 0; background: var(--bg); color: var(--fg);
          font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, summary:focus-visible, select:focus-visible {
          outline: 3px solid var(--focus); outline-offset: 2px; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; }
        .skip:focus { left: 1rem; z-index: 10; }
        header.top { border-bottom: 1px solid var(--line); background: var(--card); }
        header.top nav { max-width: 68rem; margin: 0 auto; padding: .75rem 1rem; display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
        header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); font-size: 1.15rem; }
        header.top .vault { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
        main { max-width: 68rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; margin: 1rem 0; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; }
        .card .big { font-size: 1.5rem; font-weight: 700; display: block; }
        .card .label { color: var(--muted); font-size: .9rem; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: var(--card); }
        caption { text-align: left; color: var(--muted); padding: .25rem 0; }
        th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .92rem; overflow-wrap: anywhere; }
        .bad { background: var(--warn-bg); color: var(--warn-fg); border-radius: .2rem; padding: 0 .1rem; font-family: ui-monospace, monospace; }
        .reminder { background: var(--warn-bg); color: var(--warn-fg); padding: .5rem .75rem; border-radius: .4rem; margin: .5rem 0; }
        .ok { color: var(--gain); }
        .muted { color: var(--muted); }
        .gain { color: var(--gain); }
        .loss { color: var(--loss); }
        figure { margin: 1rem 0; background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; }
        figcaption { font-weight: 600; margin-bottom: .25rem; }
        svg.chart { width: 100%; height: auto; display: block; }
        svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
        svg.chart .grid { stroke: var(--line); stroke-width: 1; stroke-dasharray: 4 4; }
        svg.chart .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
        svg.chart .point { fill: var(--accent); stroke: var(--card); stroke-width: 2; }
        svg.chart a:focus .point, svg.chart a:hover .point { fill: var(--focus); }
        svg.chart .tick { fill: var(--muted); font-size: 12px; }
        svg.chart .bar.gain { fill: var(--gain); }
        svg.chart .bar.loss { fill: var(--loss); }
        details { margin: .5rem 0; }
        summary { cursor: pointer; color: var(--accent); }
        .crumbs { display: flex; flex-wrap: wrap; gap: .25rem; list-style: none; padding: 0; margin: 0 0 1rem; }
        .crumbs li + li::before { content: "/"; color: var(--muted); margin-right: .25rem; }
        form.inline { display: inline; }
        button, .button { font: inherit; background: var(--accent); color: var(--bg); border: 0; border-radius: .4rem;
          padding: .4rem .8rem; cursor: pointer; text-decoration: none; display: inline-block; }
        label { font-weight: 600; display: block; margin: .5rem 0 .25rem; }
        input[type=search], select { font: inherit; padding: .4rem .6rem; width: 100%; max-width: 28rem;
          border: 1px solid var(--muted); border-radius: .4rem; background: var(--card); color: var(--fg); }
        .compare { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; }
        .compare div { flex: 1 1 12rem; }
        ul.records { list-style: none; padding: 0; margin: 0; }
        ul.records li { padding: .35rem .5rem; border-bottom: 1px solid var(--line); background: var(--card); }
        .sign { font-weight: 700; display: inline-block; width: 1.2rem; }
        [hidden] { display: none !important; }
        footer { max-width: 68rem; margin: 2rem auto; padding: 0 1rem; color: var(--muted); font-size: .85rem; }
        @media (max-width: 40rem) {
          h1 { font-size: 1.3rem; }
          th, td { padding: .35rem .4rem; }
          .hide-small { display: none; }
        }
        """

    /// Filters the record lists of the diff page as one types (everything is readable without it).
    static let searchJS = """
        "use strict";
        (function () {
          var box = document.getElementById("record-search");
          if (!box) { return; }
          box.hidden = false;
          var input = document.getElementById("record-search-input");
          var status = document.getElementById("record-search-status");
          var items = Array.prototype.slice.call(document.querySelectorAll("[data-search]"));
          input.addEventListener("input", function () {
            var q = input.value.trim().toLowerCase();
            var shown = 0;
            items.forEach(function (li) {
              var hit = q === "" || li.getAttribute("data-search").indexOf(q) !== -1;
              li.hidden = !hit;
              if (hit) { shown += 1; }
            });
            // Open folded tables that hold a match.
            Array.prototype.slice.call(document.querySelectorAll("details")).forEach(function (d) {
              if (q !== "" && d.querySelector("[data-search]:not([hidden])")) { d.open = true; }
            });
            status.textContent = q === "" ? "" : shown + " of " + items.length + " records match";
          });
        })();
        """
}
