// GNU readline for Swift. readline.h uses FILE without including stdio.h, so stdio.h must come first.
// Swift 6 strict concurrency rejects touching readline's mutable C globals directly, so the few the REPL
// needs are reached through these static-inline accessors. readline itself is single-threaded: the REPL
// only calls them from the thread that runs it.
#ifndef RAFT_CREADLINE_SHIM_H
#define RAFT_CREADLINE_SHIM_H

#include <signal.h>
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

/// Configures completion for a command shell: words split on blanks only, quotes understood, the
/// given function completes (it must also call raft_rl_set_attempted_completion_over(1) so readline never
/// falls back to file names). `raftctl` is the application name ~/.inputrc can test with `$if raftctl`.
static inline void raft_rl_configure(rl_completion_func_t *attempted) {
    rl_readline_name = "raftctl";
    rl_attempted_completion_function = attempted;
    rl_basic_word_break_characters = " \t\n";
    rl_completer_word_break_characters = " \t\n";
    rl_completer_quote_characters = "\"'";
    rl_completion_append_character = ' ';
    // The REPL handles SIGINT and SIGWINCH itself (see REPL.run): readline's own handlers would re-raise
    // SIGINT with the host's disposition, which by default kills the process.
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    // Keep LINES/COLUMNS out of the host's environment.
    rl_change_environment = 0;
}

/// Called from inside the completion function: no file-name fallback, whatever it returns.
static inline void raft_rl_set_attempted_completion_over(int value) { rl_attempted_completion_over = value; }

static inline void raft_rl_set_completion_append_character(int value) { rl_completion_append_character = value; }

/// The line being edited (valid during completion).
static inline const char *raft_rl_line_buffer(void) { return rl_line_buffer; }

/// Ctrl-C at the prompt (callback interface): echoes ^C, drops the line and any half-done state (incremental
/// search, key sequence, numeric argument) and redraws a fresh prompt.
static inline void raft_rl_discard_line(void) {
    rl_echo_signal_char(SIGINT);
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    rl_point = 0;
    rl_mark = 0;
    rl_crlf();
    rl_on_new_line();
    rl_redisplay();
}

static inline int raft_history_length(void) { return history_length; }

static inline int raft_history_base(void) { return history_base; }

static inline void raft_flush_stdout(void) { fflush(stdout); }

static inline void raft_flush_stderr(void) { fflush(stderr); }

static inline FILE *raft_stderr(void) { return stderr; }

#endif
