import CNcurses

/// Puts the terminal back however the workbench ends: on a normal exit (through `endwin`), on a
/// crash signal (the C handler in shim.h restores the saved modes and re-raises), and on
/// SIGINT/SIGTERM/SIGHUP (which ask the UI loop to quit cleanly through the wake-up pipe).
/// All of shim.h's signal helpers are called from this file only: they share static state.
enum TerminalGuard {
    static func install(wakeFD: Int32) {
        sw_save_terminal()
        sw_install_signal_handlers(wakeFD)
    }

    static func uninstall() {
        sw_reset_signal_handlers()
    }

    /// The quit signal received since the last call, or 0.
    static func takeQuitSignal() -> Int32 {
        sw_take_quit_signal()
    }
}
