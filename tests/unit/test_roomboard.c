/* test_roomboard.c - the live rooms' board: summaries replaced by id and
 * copied out whole; promises that count against the per-user cap and the
 * room limit until the room opens (once) or the promise is released; many
 * threads reserving at once never pass either. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "server/roomboard.h"
#include "test.h"

static RoomSummary room(const char *id, int64_t owner, const char *state, int n_players) {
    RoomSummary s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    s.owner_id = owner;
    s.state = state;
    s.max_cars = 8;
    s.n_players = n_players;
    for (int i = 0; i < n_players; i++) {
        s.players[i].user_id = 100 + i;
        snprintf(s.players[i].username, sizeof s.players[i].username, "p%d", i);
    }
    return s;
}

TEST(summaries_are_replaced_by_id_and_removed) {
    RoomBoard *b = roomboard_create(4);
    ASSERT_TRUE(b);
    RoomSummary out;
    ASSERT_TRUE(!roomboard_get(b, "a", &out));
    RoomSummary a = room("a", 1, "open", 1);
    ASSERT_TRUE(roomboard_publish(b, &a, false));
    a = room("a", 1, "countdown", 3);
    a.spectators = 5;
    ASSERT_TRUE(roomboard_publish(b, &a, false));
    ASSERT_TRUE(roomboard_get(b, "a", &out));
    ASSERT_TRUE(!strcmp(out.state, "countdown"));
    ASSERT_EQ_INT(out.n_players, 3);
    ASSERT_EQ_INT(out.spectators, 5);
    ASSERT_TRUE(!strcmp(out.players[2].username, "p2"));
    ASSERT_TRUE(!roomboard_get(b, "ab", &out));
    roomboard_remove(b, "a");
    ASSERT_TRUE(!roomboard_get(b, "a", &out));
    roomboard_remove(b, "a"); /* twice: nothing */
    roomboard_destroy(b);
    roomboard_destroy(NULL);
}

TEST(the_per_user_cap_counts_open_rooms_and_promises) {
    RoomBoard *b = roomboard_create(16);
    int have = -1;
    /* user 1: one open room, one racing (does not count), one promise */
    RoomSummary x = room("x", 1, "open", 0), y = room("y", 1, "running", 2);
    roomboard_publish(b, &x, false);
    roomboard_publish(b, &y, false);
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), 0);
    ASSERT_EQ_INT(have, 1);
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), 0);
    ASSERT_EQ_INT(have, 2);
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), ROOMBOARD_ECAP);
    ASSERT_EQ_INT(have, 3);
    /* another user is not affected */
    ASSERT_EQ_INT(roomboard_reserve(b, 2, 3, &have), 0);
    ASSERT_EQ_INT(have, 0);
    /* a promise kept becomes the open room: still 3 */
    RoomSummary z = room("z", 1, "open", 0);
    ASSERT_TRUE(roomboard_publish(b, &z, true));
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), ROOMBOARD_ECAP);
    ASSERT_EQ_INT(have, 3);
    /* a published update of the same room keeps nothing twice */
    roomboard_publish(b, &z, false);
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), ROOMBOARD_ECAP);
    /* a promise released, a room started, a room gone: room for more */
    roomboard_release(b, 1);
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), 0);
    ASSERT_EQ_INT(have, 2);
    z.state = "countdown";
    roomboard_publish(b, &z, false);
    roomboard_remove(b, "x");
    ASSERT_EQ_INT(roomboard_reserve(b, 1, 3, &have), 0);
    ASSERT_EQ_INT(have, 1);
    roomboard_destroy(b);
}

TEST(rooms_and_promises_share_the_room_limit) {
    RoomBoard *b = roomboard_create(3);
    int have;
    RoomSummary a = room("a", 1, "running", 1), c = room("c", 2, "running", 1);
    roomboard_publish(b, &a, false);
    ASSERT_EQ_INT(roomboard_reserve(b, 3, 10, &have), 0);
    ASSERT_EQ_INT(roomboard_reserve(b, 4, 10, &have), 0);
    ASSERT_EQ_INT(roomboard_reserve(b, 5, 10, &have), ROOMBOARD_EFULL);
    /* a quick room (no promise) still gets on the board */
    ASSERT_TRUE(roomboard_publish(b, &c, false));
    ASSERT_EQ_INT(roomboard_reserve(b, 5, 10, &have), ROOMBOARD_EFULL);
    roomboard_remove(b, "a");
    roomboard_remove(b, "c");
    ASSERT_EQ_INT(roomboard_reserve(b, 5, 10, &have), 0);
    ASSERT_EQ_INT(roomboard_reserve(b, 6, 10, &have), ROOMBOARD_EFULL);
    roomboard_release(b, 3);
    roomboard_release(b, 4);
    roomboard_release(b, 5);
    roomboard_release(b, 5); /* more releases than promises: nothing */
    for (int i = 0; i < 3; i++) ASSERT_EQ_INT(roomboard_reserve(b, 7, 10, &have), 0);
    ASSERT_EQ_INT(roomboard_reserve(b, 8, 10, &have), ROOMBOARD_EFULL);
    roomboard_destroy(b);
}

typedef struct {
    RoomBoard *b;
    int64_t owner;
    atomic_int *granted;
} Racer;

static void *reserve_many(void *arg) {
    Racer *r = arg;
    int have;
    for (int i = 0; i < 200; i++)
        if (!roomboard_reserve(r->b, r->owner, 3, &have)) atomic_fetch_add(r->granted, 1);
    return NULL;
}

TEST(threads_reserving_together_never_pass_the_cap) {
    RoomBoard *b = roomboard_create(64);
    atomic_int granted_a = 0, granted_b = 0;
    pthread_t t[8];
    Racer rs[8];
    for (int i = 0; i < 8; i++) {
        rs[i] = (Racer){b, i % 2 ? 1 : 2, i % 2 ? &granted_a : &granted_b};
        ASSERT_EQ_INT(pthread_create(&t[i], NULL, reserve_many, &rs[i]), 0);
    }
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    ASSERT_EQ_INT(atomic_load(&granted_a), 3);
    ASSERT_EQ_INT(atomic_load(&granted_b), 3);
    roomboard_destroy(b);
}

TEST_MAIN
