import Foundation
import Terminal
import XCTest

/// Compares a rendered grid with `Snapshots/<name>.txt`: the text of every row (ended by `|` so
/// trailing spaces show), then the style code of every cell (see `StyleID.code`).
///
/// To refresh the files after an intended change of the screen, run
///     STEPWISE_UPDATE_SNAPSHOTS=1 swift test --filter TerminalTests
/// and review the diff with git. A missing snapshot is written and the test fails, so a new
/// snapshot is always looked at once before it counts.
func assertSnapshot(_ grid: CellGrid, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let text = snapshotText(grid)
    let url = Paths.snapshots.appendingPathComponent(name + ".txt")
    let update = ProcessInfo.processInfo.environment["STEPWISE_UPDATE_SNAPSHOTS"] == "1"
    let existing = try? String(contentsOf: url, encoding: .utf8)
    if update || existing == nil {
        try? FileManager.default.createDirectory(at: Paths.snapshots, withIntermediateDirectories: true)
        do { try text.write(to: url, atomically: true, encoding: .utf8) } catch {
            XCTFail("cannot write snapshot \(url.path): \(error)", file: file, line: line)
        }
        if existing == nil && !update {
            XCTFail("recorded new snapshot \(name).txt; review it and run again", file: file, line: line)
        }
        return
    }
    guard let existing, existing != text else { return }
    let a = existing.split(separator: "\n", omittingEmptySubsequences: false)
    let b = text.split(separator: "\n", omittingEmptySubsequences: false)
    let firstDiff = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    let expected = firstDiff < a.count ? String(a[firstDiff]) : "<end>"
    let actual = firstDiff < b.count ? String(b[firstDiff]) : "<end>"
    XCTFail("snapshot \(name) differs at line \(firstDiff + 1):\n  expected: \(expected)\n  actual:   \(actual)\n(STEPWISE_UPDATE_SNAPSHOTS=1 to refresh)",
            file: file, line: line)
}

func snapshotText(_ grid: CellGrid) -> String {
    var out = "size \(grid.size.cols)x\(grid.size.rows)\n-- text\n"
    for r in 0..<grid.size.rows { out += grid.rowText(r) + "|\n" }
    out += "-- styles\n"
    for r in 0..<grid.size.rows { out += grid.rowStyles(r) + "\n" }
    return out
}
