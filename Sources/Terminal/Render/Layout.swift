/// Where each part of the screen goes for a given size. Pure, shared by the renderer and by
/// the reducer (page sizes, keeping the selection in view, mouse hit-testing).
public struct Layout: Equatable, Sendable {
    /// Below this the screen only says it is too small.
    public static let minimum = Size(cols: 60, rows: 18)
    /// Height of the rounds strip: title, round numbers, accuracy, mean score.
    static let roundsHeight = 4

    public var size: Size
    public var tooSmall: Bool
    public var header: Rect
    /// Each pane's whole area (title row included); empty when hidden.
    public var panes: [Pane: Rect]
    /// The vertical line between the left and right columns.
    public var separator: Rect
    public var metrics: Rect
    public var status: Rect

    public init(size: Size, maximized: Bool = false) {
        self.size = size
        tooSmall = size.cols < Layout.minimum.cols || size.rows < Layout.minimum.rows
        header = Rect(row: 0, col: 0, rows: 1, cols: size.cols)
        status = Rect(row: size.rows - 1, col: 0, rows: 1, cols: size.cols)
        metrics = Rect(row: size.rows - 2, col: 0, rows: 1, cols: size.cols)
        panes = [:]
        separator = .empty
        if tooSmall { return }
        let roundsTop = size.rows - 2 - Layout.roundsHeight
        panes[.rounds] = Rect(row: roundsTop, col: 0, rows: Layout.roundsHeight, cols: size.cols)
        let body = Rect(row: 1, col: 0, rows: roundsTop - 1, cols: size.cols)
        if maximized {
            panes[.solution] = body
            for p in [Pane.problem, .samples, .critique] { panes[p] = .empty }
            return
        }
        let left = max(30, size.cols * 2 / 5)
        let problemRows = max(4, body.rows / 3)
        panes[.problem] = Rect(row: body.row, col: 0, rows: problemRows, cols: left)
        panes[.samples] = Rect(row: body.row + problemRows, col: 0, rows: body.rows - problemRows, cols: left)
        separator = Rect(row: body.row, col: left, rows: body.rows, cols: 1)
        let right = size.cols - left - 1
        let solutionRows = max(4, body.rows * 3 / 5)
        panes[.solution] = Rect(row: body.row, col: left + 1, rows: solutionRows, cols: right)
        panes[.critique] = Rect(row: body.row + solutionRows, col: left + 1, rows: body.rows - solutionRows, cols: right)
    }

    public func frame(_ pane: Pane) -> Rect { panes[pane] ?? .empty }

    /// A pane's area below its title row.
    public func content(_ pane: Pane) -> Rect { frame(pane).droppingTop(1) }

    /// The pane under a screen position.
    public func pane(atRow row: Int, col: Int) -> Pane? {
        Pane.allCases.first { frame($0).contains(row: row, col: col) }
    }

    /// The solution pane's text columns: one, or parent and child side by side.
    public static func solutionColumns(_ content: Rect, split: Bool) -> (parent: Rect?, child: Rect) {
        guard split, content.cols >= 41 else { return (nil, content) }
        let half = (content.cols - 1) / 2
        let parent = Rect(row: content.row, col: content.col, rows: content.rows, cols: half)
        let child = Rect(row: content.row, col: content.col + half + 1, rows: content.rows, cols: content.cols - half - 1)
        return (parent, child)
    }
}
