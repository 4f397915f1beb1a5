/* rating.c - Weng-Lin with Plackett-Luce, for single-car "teams". */
#include "rating.h"

#include <math.h>

int rating_update(Rating *r, const int *rank, int n) {
    if (n < 2 || n > RATING_MAX_ENTRANTS) return -1;
    const double beta2 = RATING_BETA * RATING_BETA;
    double c2 = 0;
    for (int i = 0; i < n; i++) c2 += r[i].sigma * r[i].sigma + beta2;
    const double c = sqrt(c2);
    double e[RATING_MAX_ENTRANTS], sum_from[RATING_MAX_ENTRANTS];
    int ties[RATING_MAX_ENTRANTS];
    for (int i = 0; i < n; i++) e[i] = exp(r[i].mu / c);
    /* sum_from[q]: the strength of everyone who placed at q's rank or
     * behind it (who q beat or tied); ties[q]: how many share q's rank. */
    for (int q = 0; q < n; q++) {
        sum_from[q] = 0;
        ties[q] = 0;
        for (int s = 0; s < n; s++) {
            if (rank[s] >= rank[q]) sum_from[q] += e[s];
            if (rank[s] == rank[q]) ties[q]++;
        }
    }
    Rating out[RATING_MAX_ENTRANTS];
    for (int i = 0; i < n; i++) {
        double omega = 0, delta = 0;
        for (int q = 0; q < n; q++) {
            if (rank[q] > rank[i]) continue;
            double p = e[i] / sum_from[q]; /* chance i wins among those from q on */
            omega += ((q == i ? 1.0 : 0.0) - p) / ties[q];
            delta += p * (1 - p) / ties[q];
        }
        double s2 = r[i].sigma * r[i].sigma;
        double gamma = r[i].sigma / c;
        omega *= s2 / c;
        delta *= gamma * s2 / c2;
        out[i].mu = r[i].mu + omega;
        double shrink = 1 - delta;
        out[i].sigma = r[i].sigma * sqrt(shrink > RATING_KAPPA ? shrink : RATING_KAPPA);
    }
    for (int i = 0; i < n; i++) r[i] = out[i];
    return 0;
}

double rating_ordinal(Rating r) {
    return r.mu - 3 * r.sigma;
}
