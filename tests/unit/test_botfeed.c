/* test_botfeed.c - the bot feed's reading of sandbox error messages: the
 * bot's line (the innermost frame of its own code) and the cause, for
 * every message shape the sandbox and the bot link produce. */
#include "server/botfeed.h"

#include <string.h>

#include "test.h"

static int parse(const char *msg, char *cause) {
    return botfeed_parse_error(msg, cause, 256);
}

TEST(an_exception_in_on_tick) {
    char c[256];
    ASSERT_EQ_INT(parse("on_tick: line 12 in on_tick: ZeroDivisionError: division by zero", c), 12);
    ASSERT_EQ_STR(c, "ZeroDivisionError: division by zero");
}

TEST(the_innermost_frame_of_bot_code_wins) {
    char c[256];
    ASSERT_EQ_INT(parse("on_tick: line 5 in on_tick; line 9 in helper: KeyError: 'speeed'", c), 9);
    ASSERT_EQ_STR(c, "KeyError: 'speeed'");
}

TEST(a_cpu_timeout_names_the_running_line) {
    char c[256];
    ASSERT_EQ_INT(parse("on_tick: CPU budget of 10.0 ms exceeded at line 7 in spin", c), 7);
    ASSERT_EQ_STR(c, "CPU budget of 10.0 ms exceeded");
}

TEST(a_load_problem) {
    char c[256];
    ASSERT_EQ_INT(parse("alice:3: SyntaxError: invalid syntax\nalice:9: second problem", c), 3);
    ASSERT_EQ_STR(c, "SyntaxError: invalid syntax");
}

TEST(a_bot_that_raises_while_loading_names_its_own_line) {
    char c[256];
    /* The sandbox files Bot()'s exception under line 1. */
    ASSERT_EQ_INT(parse("bob:1: Bot(): line 4 in __init__: ValueError: no", c), 4);
    ASSERT_EQ_STR(c, "ValueError: no");
    ASSERT_EQ_INT(parse("bob:1: Bot(): line 3 in __init__; line 8 in setup: KeyError: 'k'", c), 8);
    ASSERT_EQ_STR(c, "KeyError: 'k'");
    /* No frame of the bot's: the load problem's own line and message. */
    ASSERT_EQ_INT(parse("bob:1: Bot(): MemoryError: out", c), 1);
    ASSERT_EQ_STR(c, "Bot(): MemoryError: out");
    /* Only the first problem's line counts. */
    ASSERT_EQ_INT(parse("bob:2: SyntaxError: bad\nbob:1: Bot(): line 7 in f: E: e", c), 2);
    ASSERT_EQ_STR(c, "SyntaxError: bad");
}

TEST(messages_without_a_line) {
    char c[256];
    ASSERT_EQ_INT(parse("worker lost: killed by signal 9", c), 0);
    ASSERT_EQ_STR(c, "worker lost: killed by signal 9"); /* not a method: kept whole */
    ASSERT_EQ_INT(parse("on_tick: RecursionError: too deep", c), 0);
    ASSERT_EQ_STR(c, "RecursionError: too deep");
    ASSERT_EQ_INT(parse("the call failed", c), 0);
    ASSERT_EQ_STR(c, "the call failed");
    ASSERT_EQ_INT(parse("", c), 0);
    ASSERT_EQ_STR(c, "");
}

TEST(malformed_line_numbers_are_no_line) {
    char c[256];
    ASSERT_EQ_INT(parse("on_tick: line x in on_tick: ValueError: v", c), 0);
    ASSERT_EQ_STR(c, "ValueError: v");
    ASSERT_EQ_INT(parse("on_tick: line -4 in on_tick: ValueError: v", c), 0);
    ASSERT_EQ_INT(parse("name:0: zero is not a line", c), 0);
    ASSERT_EQ_INT(parse("on_tick: line 99999999999999999999 in f: E: e", c) >= 0, 1);
}

TEST(the_cause_is_cut_to_its_buffer) {
    char c[8];
    ASSERT_EQ_INT(botfeed_parse_error("on_tick: line 2 in on_tick: ValueError: long", c, sizeof c),
                  2);
    ASSERT_EQ_STR(c, "ValueEr");
}

TEST_MAIN
