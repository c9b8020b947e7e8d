import CNcurses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The only code that talks to ncurses. It copies the cells that changed since the last frame
/// to the terminal and turns key codes, mouse reports and resizes into `UIInput`s. Used from
/// one thread only (the UI thread that created it).
final class NcursesScreen {
    private(set) var size: Size
    /// The locale can show UTF-8; when false the renderer draws ASCII only.
    let utf8: Bool
    let inputFD: Int32
    private let screen: OpaquePointer
    private let inFile: UnsafeMutablePointer<FILE>
    private let outFile: UnsafeMutablePointer<FILE>
    private var attrs: [StyleID: (attr_t, Int16)] = [:]
    private var previous: CellGrid?
    private var ended = false

    /// Starts ncurses on the given descriptors (standard input and output by default).
    init(theme: Theme, noColor: Bool, inputFD: Int32 = 0, outputFD: Int32 = 1) throws {
        setlocale(LC_ALL, "")
        utf8 = sw_locale_is_utf8() != 0
        guard isatty(inputFD) != 0, isatty(outputFD) != 0 else { throw TerminalError.notATerminal }
        guard let inF = fdopen(dup(inputFD), "r"), let outF = fdopen(dup(outputFD), "w") else {
            throw TerminalError.setup("cannot open the terminal's streams")
        }
        guard let scr = newterm(nil, outF, inF) else {
            fclose(inF); fclose(outF)
            throw TerminalError.setup("ncurses could not start on this terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "unset"))")
        }
        screen = scr
        inFile = inF
        outFile = outF
        self.inputFD = inputFD
        set_term(scr)
        raw()
        noecho()
        nonl()
        keypad(sw_stdscr(), true)
        nodelay(sw_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        mouseinterval(0)
        mousemask(sw_button_mask(), nil)
        size = Size(cols: Int(sw_cols()), rows: Int(sw_lines()))
        apply(theme: theme, noColor: noColor)
    }

    deinit { end() }

    /// Colour pairs and attributes for every style. Without colour (NO_COLOR, or a terminal
    /// that has none) only the attributes are kept.
    func apply(theme: Theme, noColor: Bool) {
        set_term(screen)
        let useColor = !noColor && has_colors()
        var defaults = false
        if useColor {
            start_color()
            defaults = use_default_colors() == OK
        }
        let colors = useColor ? Int(sw_colors()) : 0
        let pairs = useColor ? Int(sw_color_pairs()) : 0
        let resolved = TerminalStyle.resolve(theme, colors: colors, noColor: !useColor)
        for (i, id) in StyleID.allCases.enumerated() {
            let style = resolved[id] ?? TerminalStyle(foreground: -1, background: -1, attributes: [])
            var a = sw_a_normal()
            if style.attributes.contains(.bold) { a |= sw_a_bold() }
            if style.attributes.contains(.dim) { a |= sw_a_dim() }
            if style.attributes.contains(.underline) { a |= sw_a_underline() }
            if style.attributes.contains(.reverse) { a |= sw_a_reverse() }
            if style.attributes.contains(.italic) { a |= sw_a_italic() }
            var pair: Int16 = 0
            if useColor && i + 1 < pairs {
                var fg = style.foreground, bg = style.background
                if !defaults {
                    if fg < 0 { fg = 7 }
                    if bg < 0 { bg = 0 }
                }
                pair = Int16(i + 1)
                init_pair(pair, Int16(fg), Int16(bg))
            }
            attrs[id] = (a, pair)
        }
        previous = nil
    }

    /// Writes the cells that differ from the last frame and shows them.
    func draw(_ grid: CellGrid) {
        set_term(screen)
        if grid.size != size || previous?.size != grid.size { previous = nil }
        let runs = Diff.runs(from: previous, to: grid)
        var buffer = [wchar_t](repeating: 0, count: 6)
        for run in runs {
            var col = run.col
            for cell in run.cells {
                defer { col += 1 }
                if cell.isContinuation { continue }
                let (a, pair) = attrs[cell.style] ?? (sw_a_normal(), 0)
                buffer[0] = wchar_t(bitPattern: cell.scalar)
                var n = 1
                if let rest = cell.rest {
                    for scalar in rest.unicodeScalars where n < 5 {
                        buffer[n] = wchar_t(bitPattern: scalar.value)
                        n += 1
                    }
                }
                buffer[n] = 0
                if sw_put_cell(Int32(run.row), Int32(col), buffer, a, pair) == ERR && n > 1 {
                    // ncurses takes a base character plus combining marks only; an emoji
                    // sequence falls back to its first code point.
                    buffer[1] = 0
                    _ = sw_put_cell(Int32(run.row), Int32(col), buffer, a, pair)
                }
            }
        }
        refresh()
        previous = grid
    }

    /// Forces the next frame to be written in full (after a theme change or a resize).
    func invalidate() {
        previous = nil
        clearok(sw_stdscr(), true)
    }

    /// Everything typed, clicked or resized since the last call; never blocks.
    func readInputs() -> [UIInput] {
        set_term(screen)
        var out: [UIInput] = []
        while true {
            var ch: wint_t = 0
            let r = wget_wch(sw_stdscr(), &ch)
            if r == ERR { break }
            if r == KEY_CODE_YES {
                let code = Int32(bitPattern: ch)
                if code == sw_key_resize() {
                    size = Size(cols: Int(sw_cols()), rows: Int(sw_lines()))
                    invalidate()
                    out.append(.resize(size))
                } else if code == sw_key_mouse() {
                    if let m = mouse() { out.append(.mouse(m)) }
                } else if let key = KeyDecoder.functionKey(code) {
                    out.append(.key(key))
                }
            } else if let key = KeyDecoder.character(UInt32(ch)) {
                out.append(.key(key))
            }
        }
        return out
    }

    private func mouse() -> MouseEvent? {
        var ev = MEVENT()
        guard getmouse(&ev) == OK else { return nil }
        let row = Int(ev.y), col = Int(ev.x)
        if ev.bstate & sw_button4_pressed() != 0 { return MouseEvent(.wheelUp, row: row, col: col) }
        if ev.bstate & sw_button5_pressed() != 0 { return MouseEvent(.wheelDown, row: row, col: col) }
        if ev.bstate & (sw_button1_pressed() | sw_button1_clicked()) != 0 { return MouseEvent(.click, row: row, col: col) }
        return nil
    }

    /// Leaves curses mode and gives the terminal back as it was.
    func end() {
        guard !ended else { return }
        ended = true
        set_term(screen)
        endwin()
        delscreen(screen)
        fclose(inFile)
        fclose(outFile)
    }
}
