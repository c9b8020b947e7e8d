#ifndef STEPWISE_CNCURSES_SHIM_H
#define STEPWISE_CNCURSES_SHIM_H
// Wide-character ncurses, with the macros Swift cannot see turned into inline functions.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <ncursesw/curses.h>

static inline WINDOW *sw_stdscr(void) { return stdscr; }
static inline int sw_lines(void) { return LINES; }
static inline int sw_cols(void) { return COLS; }
static inline int sw_colors(void) { return COLORS; }
static inline int sw_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t sw_a_normal(void) { return A_NORMAL; }
static inline attr_t sw_a_bold(void) { return A_BOLD; }
static inline attr_t sw_a_reverse(void) { return A_REVERSE; }
static inline attr_t sw_a_underline(void) { return A_UNDERLINE; }
static inline attr_t sw_a_dim(void) { return A_DIM; }
static inline attr_t sw_a_italic(void) { return A_ITALIC; }
static inline int sw_key_resize(void) { return KEY_RESIZE; }
static inline int sw_key_mouse(void) { return KEY_MOUSE; }
static inline mmask_t sw_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
static inline mmask_t sw_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t sw_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t sw_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t sw_button5_pressed(void) { return BUTTON5_PRESSED; }

static inline mmask_t sw_button_mask(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED; }

static inline int sw_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/// One cell: a grapheme cluster (a spacing character and up to four combining ones, 0-ended),
/// with attributes and colour pair.
static inline int sw_put_cell(int row, int col, const wchar_t *text, attr_t attrs, short pair) {
    cchar_t cc;
    if (setcchar(&cc, text, attrs, pair, NULL) != OK) return ERR;
    return mvwadd_wch(stdscr, row, col, &cc);
}

/* Terminal restoration on signals. The workbench saves the terminal's modes before ncurses
   changes them; a crash signal puts them back (with escape sequences that leave the alternate
   screen, stop mouse reporting and show the cursor), then dies with the same signal. A quit
   signal (INT, TERM, HUP) only sets a flag and pokes the UI's wake-up descriptor, so the UI
   thread leaves the normal way, flushing the journal. Only async-signal-safe calls are made
   in the handlers. Call these from one Swift file only (they share static state). */
static struct termios sw_saved_termios = {0};
static int sw_have_saved_termios = 0;
static volatile sig_atomic_t sw_quit_signal = 0;
static int sw_wake_fd = -1;

static inline void sw_restore_terminal_now(void) {
    static const char reset[] = "\033[?1000l\033[?1002l\033[?1003l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";
    if (sw_have_saved_termios) tcsetattr(STDIN_FILENO, TCSANOW, &sw_saved_termios);
    ssize_t n = write(STDOUT_FILENO, reset, sizeof(reset) - 1);
    (void)n;
}

static inline void sw_crash_handler(int sig) {
    sw_restore_terminal_now();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void sw_quit_handler(int sig) {
    sw_quit_signal = sig;
    if (sw_wake_fd >= 0) {
        char one = 1;
        ssize_t n = write(sw_wake_fd, &one, 1);
        (void)n;
    }
}

static inline void sw_save_terminal(void) {
    if (tcgetattr(STDIN_FILENO, &sw_saved_termios) == 0) sw_have_saved_termios = 1;
}

static inline void sw_install_signal_handlers(int wake_fd) {
    sw_wake_fd = wake_fd;
    int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGQUIT };
    for (unsigned i = 0; i < sizeof(crash) / sizeof(crash[0]); i++) signal(crash[i], sw_crash_handler);
    int quit[] = { SIGINT, SIGTERM, SIGHUP };
    for (unsigned i = 0; i < sizeof(quit) / sizeof(quit[0]); i++) signal(quit[i], sw_quit_handler);
}

static inline void sw_reset_signal_handlers(void) {
    int all[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGQUIT, SIGINT, SIGTERM, SIGHUP };
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) signal(all[i], SIG_DFL);
    sw_wake_fd = -1;
}

static inline int sw_take_quit_signal(void) {
    int s = sw_quit_signal;
    sw_quit_signal = 0;
    return s;
}

#include <sys/ioctl.h>
/// Sets a (pseudo-)terminal's size, as a terminal emulator does on resize.
static inline int sw_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}

/// Opens a pseudo-terminal pair (the UI benchmark drives the workbench through one). Returns the
/// master descriptor and writes the slave's descriptor, or -1.
extern int posix_openpt(int);
extern int grantpt(int);
extern int unlockpt(int);
extern char *ptsname(int);
#include <fcntl.h>
static inline int sw_open_pty(int *slave_fd) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0) { close(m); return -1; }
    char *name = ptsname(m);
    if (!name) { close(m); return -1; }
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0) { close(m); return -1; }
    *slave_fd = s;
    return m;
}

#endif
