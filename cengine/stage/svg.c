/* svg.c - a picture of a stage for modders: verge, road by surface, edges,
 * checkpoints, start grid and finish line. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "stage/stage_internal.h"
#include "util/dmath.h"

/* The road edge on one side (+1 left, -1 right) as an SVG polyline. */
static void write_edge(FILE *f, const Stage *st, int side) {
    fputs("<polyline fill=\"none\" stroke=\"#f4f4f4\" stroke-width=\"0.35\" points=\"", f);
    for (size_t i = 0; i < st->n; i++) {
        /* Mitre direction: average of the neighbouring segment normals. */
        size_t a = i > 0 ? i - 1 : 0;
        double nx = -(st->dy[a] + st->dy[i]), ny = st->dx[a] + st->dx[i];
        double l = dm_hypot(nx, ny);
        if (l < 1e-9) nx = -st->dy[i], ny = st->dx[i], l = 1;
        double hw = st->pts[i].width / 2 * side;
        fprintf(f, "%.2f,%.2f ", st->pts[i].x + nx / l * hw, -(st->pts[i].y + ny / l * hw));
    }
    fputs("\"/>\n", f);
}

static void write_gate(FILE *f, const Stage *st, size_t i, const char *colour, double w) {
    double hw = st->pts[i].width / 2;
    double nx = -st->dy[i], ny = st->dx[i];
    fprintf(f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.1f\"/>\n",
            st->pts[i].x + nx * hw, -(st->pts[i].y + ny * hw), st->pts[i].x - nx * hw,
            -(st->pts[i].y - ny * hw), colour, w);
}

int stage_write_svg(const Stage *st, const char *title, const char *path, CrError *err) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        return CR_EIO;
    }
    double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < st->n; i++) {
        minx = fmin(minx, st->pts[i].x), maxx = fmax(maxx, st->pts[i].x);
        miny = fmin(miny, st->pts[i].y), maxy = fmax(maxy, st->pts[i].y);
    }
    double m = 40;
    /* World y is up, SVG y is down: y is negated throughout. */
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"%.1f %.1f %.1f %.1f\" "
            "width=\"%d\" height=\"%d\">\n<title>%s</title>\n"
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#27401f\"/>\n",
            minx - m, -maxy - m, maxx - minx + 2 * m, maxy - miny + 2 * m, 1200,
            (int)(1200 * (maxy - miny + 2 * m) / (maxx - minx + 2 * m)), title, minx - m, -maxy - m,
            maxx - minx + 2 * m, maxy - miny + 2 * m);
    /* Verge: the road drawn wider by the verge on each side. */
    for (size_t i = 0; i + 1 < st->n; i++)
        fprintf(f,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                "stroke-width=\"%.2f\" stroke-linecap=\"round\"/>\n",
                st->pts[i].x, -st->pts[i].y, st->pts[i + 1].x, -st->pts[i + 1].y,
                st->surfaces.s[st->surfaces.verge].colour, st->pts[i].width + 2 * CR_VERGE);
    for (size_t i = 0; i + 1 < st->n; i++)
        fprintf(f,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                "stroke-width=\"%.2f\" stroke-linecap=\"round\"/>\n",
                st->pts[i].x, -st->pts[i].y, st->pts[i + 1].x, -st->pts[i + 1].y,
                st->surfaces.s[st->pts[i].surface].colour, st->pts[i].width);
    write_edge(f, st, 1);
    write_edge(f, st, -1);
    for (size_t k = 0; k < st->ncp; k++) {
        write_gate(f, st, st->cps[k], "#ffd000", 1.2);
        size_t i = st->cps[k];
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#ffd000\" "
                "font-family=\"sans-serif\">CP%zu</text>\n",
                st->pts[i].x + st->pts[i].width / 2 + 3, -st->pts[i].y, k + 1);
    }
    write_gate(f, st, st->n - 1, "#ffffff", 2.5);
    write_gate(f, st, st->n - 1, "#000000", 0.8);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#ffffff\" "
            "font-family=\"sans-serif\">FINISH</text>\n",
            st->pts[st->n - 1].x + 8, -st->pts[st->n - 1].y);
    for (int k = 0; k < CR_MAX_CARS; k++) {
        double deg = -st->grid_heading[k] * 180 / M_PI;
        fprintf(f,
                "<rect x=\"-2.2\" y=\"-1\" width=\"4.4\" height=\"2\" fill=\"none\" "
                "stroke=\"#ffffff\" stroke-width=\"0.3\" transform=\"translate(%.2f %.2f) "
                "rotate(%.1f)\"/>\n",
                st->grid_x[k], -st->grid_y[k], deg);
    }
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#ffffff\" "
            "font-family=\"sans-serif\">START</text>\n</svg>\n",
            st->pts[0].x + 8, -st->pts[0].y - 8);
    if (fclose(f) != 0) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", path, strerror(errno));
        return CR_EIO;
    }
    return CR_OK;
}
