/* test_ratelimit.c - the rate-limit table: windows count and end, a live
 * window is never lost however many other keys arrive, expired ones are
 * reused, the table grows only up to its cap, and keys past the cap are
 * counted conservatively (per class, never below their true count). */
#include <stdio.h>
#include <string.h>

#include "server/ratelimit.h"
#include "test.h"

TEST(a_window_counts_then_ends) {
    RateLimit *rl = ratelimit_create(16, 16);
    ASSERT_TRUE(rl != NULL);
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:ada", 1000), 0);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:ada", 1000, 900), 1);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:ada", 1100, 900), 2);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:ada", 1899, 900), 3);
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:ada", 1899), 3);
    ASSERT_EQ_INT(ratelimit_retry_after(rl, "login-user:ada", 1100), 800);
    ASSERT_EQ_INT(ratelimit_retry_after(rl, "login-user:ada", 1899), 1);
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:bob", 1100), 0);
    /* fixed windows: the one that began at 1000 ends at 1900 */
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:ada", 1900), 0);
    ASSERT_EQ_INT(ratelimit_retry_after(rl, "login-user:ada", 1900), 1);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:ada", 1900, 900), 1);
    ASSERT_EQ_INT(ratelimit_retry_after(rl, "login-user:ada", 1900), 900);
    ratelimit_destroy(rl);
    ratelimit_destroy(NULL);
}

TEST(sub_takes_back_one_addition_of_a_live_window) {
    RateLimit *rl = ratelimit_create(16, 16);
    ASSERT_TRUE(rl != NULL);
    ratelimit_add(rl, "login-user:ada", 0, 10);
    ratelimit_add(rl, "login-user:ada", 0, 10);
    ratelimit_sub(rl, "login-user:ada", 1);
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:ada", 1), 1);
    ratelimit_sub(rl, "login-user:ada", 1);
    ratelimit_sub(rl, "login-user:ada", 1); /* never below 0 */
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:ada", 1), 0);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:ada", 2, 10), 1);
    ratelimit_sub(rl, "login-user:nobody", 2); /* no window: nothing happens */
    ASSERT_EQ_INT(ratelimit_count(rl, "login-user:nobody", 2), 0);
    ratelimit_destroy(rl);
}

/* The audit's attack: many distinct live keys (failed logins under
 * attacker-chosen usernames) must never reset a victim's window, whatever
 * slots their hashes land on, and once the table is at its cap a new key
 * reads at least its true count. */
TEST(many_distinct_live_keys_never_reset_a_live_window) {
    RateLimit *rl = ratelimit_create(16, 1024);
    ASSERT_TRUE(rl != NULL);
    const char *victims[] = {"login-user:ada", "login-addr:10.0.0.1", "reg:10.0.0.2"};
    for (int v = 0; v < 3; v++)
        for (int i = 0; i < 10; i++) ratelimit_add(rl, victims[v], 100, 900);
    char key[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "login-user:spray%d", i);
        int64_t now = 100 + i / 1000; /* 100 s of spraying, every window live */
        ratelimit_add(rl, key, now, 900);
        if (i % 997 == 0)
            for (int v = 0; v < 3; v++) ASSERT_EQ_INT(ratelimit_count(rl, victims[v], now), 10);
    }
    for (int v = 0; v < 3; v++) {
        ASSERT_EQ_INT(ratelimit_count(rl, victims[v], 200), 10);
        ASSERT_EQ_INT(ratelimit_add(rl, victims[v], 200, 900), 11);
        ASSERT_EQ_INT(ratelimit_retry_after(rl, victims[v], 200), 800);
    }
    /* memory stays at the cap */
    ASSERT_EQ_INT(ratelimit_slots(rl), 1024);
    /* every sprayed key reads at least the additions made under it */
    for (int i = 0; i < 100000; i += 101) {
        snprintf(key, sizeof key, "login-user:spray%d", i);
        ASSERT_TRUE(ratelimit_count(rl, key, 200) >= 1);
    }
    /* a key never seen, in the class that overflowed, shares its overflow
     * window: it reads high (conservative), never 0 */
    ASSERT_TRUE(ratelimit_count(rl, "login-user:newcomer", 200) >= 10);
    ASSERT_TRUE(ratelimit_retry_after(rl, "login-user:newcomer", 200) > 1);
    /* another class is not charged with the sprayed class's overflow */
    ASSERT_EQ_INT(ratelimit_count(rl, "reg:10.9.9.9", 200), 0);
    ASSERT_EQ_INT(ratelimit_add(rl, "reg:10.9.9.9", 200, 600), 1);
    /* the table is full: the next new address shares reg's overflow */
    ASSERT_EQ_INT(ratelimit_add(rl, "reg:10.9.9.8", 200, 600), 2);
    ratelimit_destroy(rl);
}

/* With the cap reached, expired windows make room again: keys added long
 * after the first ones ended get slots of their own (two additions read 2,
 * not the shared overflow's count) and the table does not grow. */
TEST(expired_windows_are_reused) {
    RateLimit *rl = ratelimit_create(64, 64);
    ASSERT_TRUE(rl != NULL);
    char key[64];
    for (int round = 0; round < 200; round++) {
        int64_t now = 1000 + round * 20; /* every earlier window (10 s) has ended */
        for (int i = 0; i < 40; i++) {
            snprintf(key, sizeof key, "login-addr:r%d.%d", round, i);
            ASSERT_EQ_INT(ratelimit_add(rl, key, now, 10), 1);
            ASSERT_EQ_INT(ratelimit_add(rl, key, now, 10), 2);
        }
        for (int i = 0; i < 40; i++) {
            snprintf(key, sizeof key, "login-addr:r%d.%d", round, i);
            ASSERT_EQ_INT(ratelimit_count(rl, key, now + 9), 2);
        }
        ASSERT_EQ_INT(ratelimit_slots(rl), 64);
    }
    /* a key whose window ended starts a new one in place */
    ASSERT_EQ_INT(ratelimit_count(rl, "login-addr:r199.0", 5000), 0);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-addr:r199.0", 5000, 10), 1);
    ratelimit_destroy(rl);
}

/* The table grows while it has live windows to hold, and shrinks back once
 * they have ended and it is rebuilt. */
TEST(the_table_grows_to_its_cap_and_shrinks_after) {
    RateLimit *rl = ratelimit_create(16, 8192);
    ASSERT_TRUE(rl != NULL);
    ASSERT_EQ_INT(ratelimit_slots(rl), 16);
    char key[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "reg:%d", i);
        ASSERT_EQ_INT(ratelimit_add(rl, key, 10, 600), 1);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "reg:%d", i);
        ASSERT_EQ_INT(ratelimit_add(rl, key, 11, 600), 2);
    }
    ASSERT_TRUE(ratelimit_slots(rl) >= 4096 && ratelimit_slots(rl) <= 8192);
    /* all ended: new keys take expired or empty slots, and the rebuild that
     * follows keeps only live windows, at the smallest size that holds them */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "reg:new%d", i);
        ASSERT_EQ_INT(ratelimit_add(rl, key, 1000 + i, 1), 1);
    }
    ASSERT_EQ_INT(ratelimit_count(rl, "reg:new19999", 1000 + 19999), 1);
    ASSERT_TRUE(ratelimit_slots(rl) <= 64);
    ratelimit_destroy(rl);
}

/* A key too long for a slot, or an empty one, is never dropped: it counts
 * in its class's overflow window, shared with others like it. */
TEST(keys_too_long_for_a_slot_share_their_class_window) {
    RateLimit *rl = ratelimit_create(16, 16);
    ASSERT_TRUE(rl != NULL);
    char a[200], b[200];
    memset(a, 'a', sizeof a - 1);
    a[sizeof a - 1] = 0;
    memcpy(a, "login-user:", 11);
    memcpy(b, a, sizeof b);
    b[150] = 'b';
    ASSERT_EQ_INT(ratelimit_add(rl, a, 0, 60), 1);
    ASSERT_EQ_INT(ratelimit_add(rl, b, 0, 60), 2);
    ASSERT_EQ_INT(ratelimit_count(rl, a, 59), 2);
    ASSERT_EQ_INT(ratelimit_count(rl, a, 60), 0);
    ASSERT_EQ_INT(ratelimit_add(rl, "", 0, 60), 1);
    ASSERT_EQ_INT(ratelimit_add(rl, "login-user:short", 0, 60), 1);
    ratelimit_destroy(rl);
}

TEST_MAIN
