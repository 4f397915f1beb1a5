/* test_rating.c - Weng-Lin / Plackett-Luce ratings: who wins goes up, who
 * loses goes down, everyone gets surer, ties are symmetric, order matters
 * more the bigger the field. */
#include "server/rating.h"
#include "test.h"

static Rating fresh(void) {
    return (Rating){RATING_MU, RATING_SIGMA};
}

TEST(two_equal_cars_the_winner_gains_what_the_loser_loses) {
    Rating r[2] = {fresh(), fresh()};
    int rank[2] = {1, 2};
    ASSERT_EQ_INT(rating_update(r, rank, 2), 0);
    ASSERT_LT(RATING_MU, r[0].mu);
    ASSERT_LT(r[1].mu, RATING_MU);
    ASSERT_NEAR(r[0].mu - RATING_MU, RATING_MU - r[1].mu, 1e-9);
    ASSERT_LT(r[0].sigma, RATING_SIGMA);
    ASSERT_LT(r[1].sigma, RATING_SIGMA);
    ASSERT_NEAR(r[0].sigma, r[1].sigma, 1e-9);
    /* The published model's numbers for this case (OpenSkill's PL defaults):
     * 27.635 / 22.365, sigma 8.0655. */
    ASSERT_NEAR(r[0].mu, 27.6352, 1e-3);
    ASSERT_NEAR(r[1].mu, 22.3648, 1e-3);
    ASSERT_NEAR(r[0].sigma, 8.0655, 1e-3);
}

TEST(a_tie_between_equals_moves_no_mean) {
    Rating r[2] = {fresh(), fresh()};
    int rank[2] = {1, 1};
    ASSERT_EQ_INT(rating_update(r, rank, 2), 0);
    ASSERT_NEAR(r[0].mu, RATING_MU, 1e-9);
    ASSERT_NEAR(r[1].mu, RATING_MU, 1e-9);
    ASSERT_LT(r[0].sigma, RATING_SIGMA);
}

TEST(eight_cars_means_follow_the_finishing_order) {
    Rating r[8];
    int rank[8];
    for (int i = 0; i < 8; i++) {
        r[i] = fresh();
        rank[i] = i + 1;
    }
    ASSERT_EQ_INT(rating_update(r, rank, 8), 0);
    for (int i = 0; i + 1 < 8; i++) ASSERT_LT(r[i + 1].mu, r[i].mu);
    ASSERT_LT(RATING_MU, r[0].mu);
    ASSERT_LT(r[7].mu, RATING_MU);
}

TEST(an_upset_moves_more_than_the_expected_result) {
    Rating strong = {30, 3}, weak = {20, 3};
    Rating a[2] = {strong, weak}, b[2] = {strong, weak};
    int expected[2] = {1, 2}, upset[2] = {2, 1};
    rating_update(a, expected, 2);
    rating_update(b, upset, 2);
    ASSERT_LT(a[0].mu - strong.mu, strong.mu - b[0].mu);
}

TEST(repeated_wins_converge_and_sigma_stays_positive) {
    Rating r[3] = {fresh(), fresh(), fresh()};
    int rank[3] = {1, 2, 3};
    for (int k = 0; k < 500; k++) ASSERT_EQ_INT(rating_update(r, rank, 3), 0);
    ASSERT_LT(r[1].mu, r[0].mu);
    ASSERT_LT(0, r[0].sigma);
    ASSERT_LT(rating_ordinal(r[2]), rating_ordinal(r[0]));
}

TEST(bad_field_sizes_change_nothing) {
    Rating r[1] = {fresh()};
    int rank[1] = {1};
    ASSERT_EQ_INT(rating_update(r, rank, 1), -1);
    ASSERT_NEAR(r[0].mu, RATING_MU, 0);
    ASSERT_EQ_INT(rating_update(r, rank, RATING_MAX_ENTRANTS + 1), -1);
}

TEST_MAIN
