/* test_tickclock.c - the room tick schedule: no drift over hours, late
 * wake-ups catch up, a long stall drops ticks and says how many. */
#include <stdint.h>
#include <string.h>

#include "server/tickclock.h"
#include "test.h"

#define NS 1000000000LL

TEST(deadlines_do_not_drift) {
    TickClock c;
    tickclock_start(&c, 5 * NS, 60);
    ASSERT_EQ_INT(tickclock_deadline(&c, 0), 5 * NS);
    ASSERT_EQ_INT(tickclock_deadline(&c, 1), 5 * NS + 16666666);
    ASSERT_EQ_INT(tickclock_deadline(&c, 60), 6 * NS);
    /* ten hours of ticks land exactly on the second */
    ASSERT_EQ_INT(tickclock_deadline(&c, 60ull * 36000), 5 * NS + 36000 * NS);
    ASSERT_EQ_INT(tickclock_deadline(&c, 60ull * 36000 + 1), 5 * NS + 36000 * NS + 16666666);
}

TEST(on_time_wakeups_run_one_tick) {
    TickClock c;
    tickclock_start(&c, 0, 60);
    for (int i = 0; i < 600; i++) {
        int64_t now = tickclock_deadline(&c, c.next) + 1000; /* 1 us late */
        ASSERT_EQ_INT(tickclock_due(&c, now, 5), 1);
        tickclock_ran(&c, now);
        ASSERT_EQ_INT(tickclock_due(&c, now, 5), 0);
        ASSERT_TRUE(tickclock_wait_ns(&c, now) > 16000000);
    }
    ASSERT_EQ_INT(c.next, 600);
    ASSERT_EQ_INT(c.dropped, 0);
    ASSERT_EQ_INT(c.worst_late_ns, 1000);
}

TEST(a_late_wakeup_catches_up_within_the_cap) {
    TickClock c;
    tickclock_start(&c, 0, 60);
    int64_t now = tickclock_deadline(&c, 7) + 5; /* ticks 0..7 due */
    ASSERT_EQ_INT(tickclock_due(&c, now, 5), 5);
    for (int i = 0; i < 5; i++) tickclock_ran(&c, now);
    ASSERT_EQ_INT(tickclock_due(&c, now, 5), 3);
    for (int i = 0; i < 3; i++) tickclock_ran(&c, now);
    ASSERT_EQ_INT(tickclock_due(&c, now, 5), 0);
    ASSERT_EQ_INT(c.next, 8);
    ASSERT_EQ_INT(c.dropped, 0);
    ASSERT_EQ_INT(c.worst_late_ns, tickclock_deadline(&c, 7) + 5 - tickclock_deadline(&c, 0));
}

TEST(a_long_stall_drops_ticks_and_counts_them) {
    TickClock c;
    tickclock_start(&c, 0, 60);
    tickclock_ran(&c, 0);
    int64_t now = 2 * NS; /* ticks 1..120 due: far more than the limit */
    ASSERT_EQ_INT(tickclock_due(&c, now, 5), 1);
    ASSERT_EQ_INT(c.dropped, 119);
    tickclock_ran(&c, now);
    /* the schedule goes on from now */
    ASSERT_EQ_INT(tickclock_deadline(&c, c.next), now + 16666666);
    ASSERT_EQ_INT(tickclock_due(&c, now + 16666666, 5), 1);
}

TEST(random_wakeups_run_every_due_tick_once_and_none_early) {
    TickClock c;
    tickclock_start(&c, 1000, 60);
    uint64_t x = 88172645463325252ull;
    int64_t now = 1000;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        now += (int64_t)(x % 40000000); /* 0..40 ms between wake-ups */
        if (x % 1000 == 0) now += NS;   /* now and then a stall */
        int n;
        while ((n = tickclock_due(&c, now, 4)) > 0) {
            for (int k = 0; k < n; k++) {
                ASSERT_TRUE(tickclock_deadline(&c, c.next) <= now);
                tickclock_ran(&c, now);
            }
        }
        /* everything due has run or been dropped: the next is in the future */
        ASSERT_TRUE(tickclock_deadline(&c, c.next) > now);
    }
    ASSERT_TRUE(c.dropped > 0);
}

TEST(the_phase_grid_is_exact_and_next_is_not_before_now) {
    /* 8 phases of a 60 Hz tick: 480 instants a second. */
    ASSERT_EQ_INT(tickclock_grid_ns(7, 60, 8, 0), 7);
    ASSERT_EQ_INT(tickclock_grid_ns(7, 60, 8, 1), 7 + 2083333);
    ASSERT_EQ_INT(tickclock_grid_ns(7, 60, 8, 8), 7 + 16666666);
    ASSERT_EQ_INT(tickclock_grid_ns(7, 60, 8, 480), 7 + NS);
    ASSERT_EQ_INT(tickclock_grid_ns(7, 60, 8, 480ull * 36000 + 1), 7 + 36000 * NS + 2083333);
    for (int64_t now = 0; now < 3 * NS; now += 999983) {
        uint64_t g = tickclock_grid_next(5, 60, 8, now);
        ASSERT_TRUE(tickclock_grid_ns(5, 60, 8, g) >= now);
        ASSERT_TRUE(g == 0 || tickclock_grid_ns(5, 60, 8, g - 1) < now);
    }
    /* Before the epoch: the epoch itself. */
    ASSERT_EQ_INT(tickclock_grid_next(NS, 60, 8, 0), 0);
}

TEST(a_new_room_takes_the_least_loaded_phase) {
    int load[24] = {0};
    /* All empty: the first instant. */
    ASSERT_EQ_INT(tickclock_grid_pick(load, 24, 100), 100);
    /* Its bucket taken: the next one, not a later tick of the same phase. */
    load[100 % 24] = 1;
    ASSERT_EQ_INT(tickclock_grid_pick(load, 24, 100), 101);
    /* 50 rooms starting at once, one after another: every bucket gets 2 or
     * 3 of them, every phase of the tick 6 or 7, and no room waits more than
     * the 24 instants (3 ticks) it may. */
    memset(load, 0, sizeof load);
    for (int r = 0; r < 50; r++) {
        uint64_t g = tickclock_grid_pick(load, 24, 1000 + (uint64_t)r / 10);
        ASSERT_TRUE(g >= 1000 + (uint64_t)r / 10 && g < 1000 + (uint64_t)r / 10 + 24);
        load[g % 24]++;
    }
    int phase[8] = {0};
    for (int b = 0; b < 24; b++) {
        ASSERT_TRUE(load[b] == 2 || load[b] == 3);
        phase[b % 8] += load[b];
    }
    for (int p = 0; p < 8; p++) ASSERT_TRUE(phase[p] == 6 || phase[p] == 7);
}

TEST_MAIN
