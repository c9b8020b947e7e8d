#ifndef STEPWISE_CNCURSES_SHIM_H
#define STEPWISE_CNCURSES_SHIM_H
// Wide-character ncurses, with the macros Swift cannot see turned into inline functions.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
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

#endif
