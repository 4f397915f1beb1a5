/*
 * rating.h - skill ratings for races of many cars: Weng and Lin's
 * Bayesian approximation with the Plackett-Luce model (Weng & Lin 2011,
 * "A Bayesian Approximation Method for Online Ranking", algorithm 4), the
 * model OpenSkill uses. Each entrant has a mean mu and an uncertainty sigma;
 * one race's finishing order moves every mu and shrinks every sigma. Ties
 * share a rank. Pure arithmetic: no allocation, no I/O.
 */
#ifndef CR_SERVER_RATING_H
#define CR_SERVER_RATING_H

#define RATING_MU 25.0
#define RATING_SIGMA (25.0 / 3.0)
#define RATING_BETA (25.0 / 6.0)
#define RATING_KAPPA 0.0001
#define RATING_MAX_ENTRANTS 16

typedef struct {
    double mu, sigma;
} Rating;

/* Updates r[0..n) in place from one race: rank[i] is entrant i's finishing
 * place (1 = first; equal ranks tie; DNFs share the last place). n in
 * 2..RATING_MAX_ENTRANTS; anything else leaves r unchanged and returns -1. */
int rating_update(Rating *r, const int *rank, int n);
/* What a leaderboard sorts by: mu - 3 sigma (a cautious estimate). */
double rating_ordinal(Rating r);

#endif
