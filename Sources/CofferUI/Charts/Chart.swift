// Chart.swift: server-rendered SVG charts (no JavaScript): a line chart of values over time,
// paired bars (gains up, losses down) and a timeline of versions. Colours come from the
// stylesheet (classes only: the Content-Security-Policy allows no inline style); each chart has
// a <title> and a table of its numbers next to it for screen readers and for reading without SVG.

import Foundation

/// One value at one moment.
public struct ChartPoint: Sendable, Equatable {
    public var time: Date
    public var value: Double
    /// The value as shown (`1,204`, `3.2 MB`).
    public var shown: String
    /// Where the point links to (a version page), if anywhere.
    public var link: String?

    public init(time: Date, value: Double, shown: String, link: String? = nil) {
        self.time = time
        self.value = value
        self.shown = shown
        self.link = link
    }
}

/// A gain and a loss at one moment (new and removed connections).
public struct ChartPair: Sendable, Equatable {
    public var time: Date
    public var gain: Int
    public var loss: Int

    public init(time: Date, gain: Int, loss: Int) {
        self.time = time
        self.gain = gain
        self.loss = loss
    }
}

/// Geometry shared by the charts: a 640×220 view box scaled by CSS to the page's width.
enum ChartGeometry {
    static let width = 640.0, height = 220.0
    static let left = 64.0, right = 16.0, top = 16.0, bottom = 36.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// x of each moment: spread over the time span, or centred for a single moment.
    static func xs(_ times: [Date]) -> [Double] {
        guard let first = times.min(), let last = times.max(), last > first else {
            return times.map { _ in left + plotWidth / 2 }
        }
        let span = last.timeIntervalSince(first)
        return times.map { left + plotWidth * $0.timeIntervalSince(first) / span }
    }

    static func number(_ x: Double) -> String { String(format: "%.1f", x) }
}

enum SVGChart {
    /// A line chart: one `circle.point` per point (in order), joined by a polyline.
    ///
    /// The value axis starts at 0, unless every value is above half the largest: it then starts a
    /// little below the smallest (labelled with `valueFormatter`), so a change of a few percent
    /// (connections from one export to the next) is visible.
    static func line(
        id: String, title: String, points: [ChartPoint], dayFormatter: (Date) -> String, valueFormatter: (Double) -> String = { Show.count(Int($0)) }
    ) -> Node {
        typealias G = ChartGeometry
        let (low, high) = valueRange(points.map(\.value))
        let xs = G.xs(points.map(\.time))
        let ys = points.map { G.top + G.plotHeight * (1 - ($0.value - low) / (high - low)) }
        var children: [Node] = [.el("title", [("id", id + "-title")], title)]
        children.append(
            contentsOf: axes(
                maxLabel: points.max { $0.value < $1.value }?.shown ?? "0", minLabel: valueFormatter(low), times: points.map(\.time), dayFormatter: dayFormatter))
        if points.count > 1 {
            let coords = zip(xs, ys).map { "\(G.number($0)),\(G.number($1))" }.joined(separator: " ")
            children.append(.el("polyline", [("class", "line"), ("points", coords)]))
        }
        var dots: [Node] = []
        for (i, p) in points.enumerated() {
            let circle = Node.el(
                "circle",
                [("class", "point"), ("cx", G.number(xs[i])), ("cy", G.number(ys[i])), ("r", "5"), ("data-value", String(p.value))])
            let label = Node.el("title", [], "\(dayFormatter(p.time)): \(p.shown)")
            let dot = Node.el("g", [("class", "dot")], [circle, label])
            dots.append(p.link.map { Node.el("a", [("href", $0)], [dot]) } ?? dot)
        }
        children.append(.el("g", [("class", "points")], dots))
        return svg(id: id, children: children)
    }

    /// Paired bars: gains up (`rect.gain`), losses down (`rect.loss`) from a middle axis.
    static func pairs(id: String, title: String, pairs: [ChartPair], dayFormatter: (Date) -> String) -> Node {
        typealias G = ChartGeometry
        let biggest = Double(max(pairs.map { max($0.gain, $0.loss) }.max() ?? 0, 1))
        let barWidth = max(4, min(28, G.plotWidth / Double(max(pairs.count, 1)) / 3))
        // Bars sit inside the plot: the outermost ones do not cover the axis labels.
        let inset = barWidth + 6
        let xs = G.xs(pairs.map(\.time)).map { G.left + inset + ($0 - G.left) * (G.plotWidth - 2 * inset) / G.plotWidth }
        let middle = G.top + G.plotHeight / 2
        let half = G.plotHeight / 2 - 14
        var children: [Node] = [.el("title", [("id", id + "-title")], title)]
        children.append(.el("line", [("class", "axis"), ("x1", G.number(G.left)), ("y1", G.number(middle)), ("x2", G.number(G.width - G.right)), ("y2", G.number(middle))]))
        children.append(contentsOf: timeTicks(pairs.map(\.time), dayFormatter: dayFormatter))
        var bars: [Node] = []
        for (i, p) in pairs.enumerated() {
            let up = half * Double(p.gain) / biggest, down = half * Double(p.loss) / biggest
            bars.append(.el("rect", [("class", "bar gain"), ("x", G.number(xs[i] - barWidth)), ("y", G.number(middle - up)), ("width", G.number(barWidth)), ("height", G.number(up))], [.el("title", [], "\(dayFormatter(p.time)): +\(p.gain)")]))
            bars.append(.el("rect", [("class", "bar loss"), ("x", G.number(xs[i])), ("y", G.number(middle)), ("width", G.number(barWidth)), ("height", G.number(down))], [.el("title", [], "\(dayFormatter(p.time)): −\(p.loss)")]))
            bars.append(.el("text", [("class", "tick"), ("x", G.number(xs[i] - barWidth / 2)), ("y", G.number(middle - up - 4)), ("text-anchor", "middle")], "+\(p.gain)"))
            bars.append(.el("text", [("class", "tick"), ("x", G.number(xs[i] + barWidth / 2)), ("y", G.number(middle + down + 13)), ("text-anchor", "middle")], "−\(p.loss)"))
        }
        children.append(.el("g", [("class", "bars")], bars))
        return svg(id: id, children: children)
    }

    /// Versions on a time line: one `circle.point` per version, each a link to its page.
    static func timeline(id: String, title: String, points: [ChartPoint], dayFormatter: (Date) -> String) -> Node {
        typealias G = ChartGeometry
        let xs = G.xs(points.map(\.time))
        let y = 40.0
        var children: [Node] = [.el("title", [("id", id + "-title")], title)]
        children.append(.el("line", [("class", "axis"), ("x1", G.number(G.left)), ("y1", G.number(y)), ("x2", G.number(G.width - G.right)), ("y2", G.number(y))]))
        var dots: [Node] = []
        for (i, p) in points.enumerated() {
            let dot = Node.el(
                "g", [("class", "dot")],
                [.el("circle", [("class", "point"), ("cx", G.number(xs[i])), ("cy", G.number(y)), ("r", "7")]), .el("title", [], "\(dayFormatter(p.time)): \(p.shown)")])
            dots.append(p.link.map { Node.el("a", [("href", $0), ("aria-label", "\(dayFormatter(p.time)): \(p.shown)")], [dot]) } ?? dot)
        }
        children.append(.el("g", [("class", "points")], dots))
        if let first = points.first, let last = points.last {
            children.append(.el("text", [("class", "tick"), ("x", G.number(G.left)), ("y", "75"), ("text-anchor", "start")], dayFormatter(first.time)))
            if points.count > 1 {
                children.append(.el("text", [("class", "tick"), ("x", G.number(G.width - G.right)), ("y", "75"), ("text-anchor", "end")], dayFormatter(last.time)))
            }
        }
        return .el(
            "svg",
            [("id", id), ("class", "chart timeline"), ("viewBox", "0 0 \(Int(G.width)) 90"), ("role", "img"), ("aria-labelledby", id + "-title"),
             ("xmlns", "http://www.w3.org/2000/svg")], children)
    }

    private static func svg(id: String, children: [Node]) -> Node {
        typealias G = ChartGeometry
        return .el(
            "svg",
            [("id", id), ("class", "chart"), ("viewBox", "0 0 \(Int(G.width)) \(Int(G.height))"), ("role", "img"),
             ("aria-labelledby", id + "-title"), ("xmlns", "http://www.w3.org/2000/svg")], children)
    }

    /// The value axis: from 0, or from a little below the smallest value when all are above half the largest.
    static func valueRange(_ values: [Double]) -> (low: Double, high: Double) {
        let high = max(values.max() ?? 0, 1)
        let low = values.min() ?? 0
        guard low > high / 2 else { return (0, high) }
        let start = (low - max(high - low, 1) * 0.5).rounded(.down)
        return (max(0, start), high)
    }

    private static func axes(maxLabel: String, minLabel: String, times: [Date], dayFormatter: (Date) -> String) -> [Node] {
        typealias G = ChartGeometry
        var nodes: [Node] = [
            .el("line", [("class", "axis"), ("x1", G.number(G.left)), ("y1", G.number(G.height - G.bottom)), ("x2", G.number(G.width - G.right)), ("y2", G.number(G.height - G.bottom))]),
            .el("line", [("class", "grid"), ("x1", G.number(G.left)), ("y1", G.number(G.top)), ("x2", G.number(G.width - G.right)), ("y2", G.number(G.top))]),
            .el("text", [("class", "tick"), ("x", G.number(G.left - 6)), ("y", G.number(G.top + 4)), ("text-anchor", "end")], maxLabel),
            .el("text", [("class", "tick"), ("x", G.number(G.left - 6)), ("y", G.number(G.height - G.bottom)), ("text-anchor", "end")], minLabel),
        ]
        nodes.append(contentsOf: timeTicks(times, dayFormatter: dayFormatter))
        return nodes
    }

    private static func timeTicks(_ times: [Date], dayFormatter: (Date) -> String) -> [Node] {
        typealias G = ChartGeometry
        guard let first = times.min(), let last = times.max() else { return [] }
        let y = G.number(G.height - G.bottom + 22)
        if first == last {
            return [.el("text", [("class", "tick"), ("x", G.number(G.left + G.plotWidth / 2)), ("y", y), ("text-anchor", "middle")], dayFormatter(first))]
        }
        return [
            .el("text", [("class", "tick"), ("x", G.number(G.left)), ("y", y), ("text-anchor", "start")], dayFormatter(first)),
            .el("text", [("class", "tick"), ("x", G.number(G.width - G.right)), ("y", y), ("text-anchor", "end")], dayFormatter(last)),
        ]
    }
}
