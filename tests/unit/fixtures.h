/* fixtures.h - stages and cars built in C for unit tests, independent of
 * the shipped generators. */
#ifndef CR_FIXTURES_H
#define CR_FIXTURES_H

#include "coderally.h"

/* Points of a road: a straight of `straight` u, then an arc turning `turn`
 * rad (left positive) over `arc` u, then a straight of `tail` u; width w,
 * surface surf, points every 2 u. Returns the point count (<= cap). */
size_t fixture_road(StagePoint *pts, size_t cap, double straight, double turn, double arc,
                    double tail, double w, Surface surf);
/* A compiled stage from fixture_road with checkpoints every `cp_every` u. */
Stage *fixture_stage(double straight, double turn, double arc, double tail, double w, Surface surf,
                     double cp_every);
/* The standard test car. */
CarStats fixture_stats(void);
/* Rules with no hooks: countdown 0, generous limits. */
RaceRules fixture_rules(void);

#endif
