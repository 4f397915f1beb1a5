/* test_stage.c - stage validation names each kind of bad stage; the
 * compiled index answers probes and rays correctly. */
#include "fixtures.h"
#include "stage/stage_internal.h"
#include "test.h"
#include "util/rng.h"

static StagePoint pts[8192];
static uint32_t cps[64];

/* A valid 600 u straight with checkpoints at 200 and 400 u. */
static StageDesc good(size_t *n) {
    *n = fixture_road(pts, 8192, 600, 0, 0, 0, 12, SURFACE_ASPHALT);
    cps[0] = 100, cps[1] = 200;
    return (StageDesc){pts, *n, cps, 2, NULL};
}

static int check(StageDesc d, CrError *err) {
    StageLimits lim = {300, 3000};
    Stage *st = NULL;
    int rc = stage_compile(&d, &lim, &st, err);
    stage_destroy(st);
    return rc;
}

TEST(a_good_stage_compiles) {
    size_t n;
    StageDesc d = good(&n);
    StageLimits lim = {300, 3000};
    Stage *st;
    CrError err;
    ASSERT_EQ_INT(stage_compile(&d, &lim, &st, &err), CR_OK);
    ASSERT_NEAR(stage_length(st), 600, 1e-9);
    ASSERT_EQ_INT(stage_checkpoint_count(st), 2);
    ASSERT_NEAR(stage_point_distance(st, 100), 200, 1e-9);
    stage_destroy(st);
}

TEST(rejects_narrow_road) {
    size_t n;
    StageDesc d = good(&n);
    pts[37].width = 3.0;
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 38");
    ASSERT_CONTAINS(err.msg, "width 3");
}

TEST(rejects_unknown_surface) {
    size_t n;
    StageDesc d = good(&n);
    pts[5].surface = SURFACE_OFFROAD;
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 6");
    ASSERT_CONTAINS(err.msg, "unknown surface");
}

TEST(rejects_non_finite_points) {
    size_t n;
    StageDesc d = good(&n);
    pts[9].x = NAN;
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 10");
}

TEST(rejects_gaps_and_duplicates) {
    size_t n;
    StageDesc d = good(&n);
    pts[50].x += 40; /* a 40 u jump */
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 51");
    ASSERT_CONTAINS(err.msg, "from the previous point");
    d = good(&n);
    pts[51] = pts[50]; /* a repeated point */
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 52");
}

TEST(rejects_length_outside_limits) {
    size_t n;
    StageDesc d = good(&n);
    StageLimits lim = {1000, 3000};
    Stage *st = NULL;
    CrError err;
    ASSERT_EQ_INT(stage_compile(&d, &lim, &st, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "stage length 600.0");
    ASSERT_CONTAINS(err.msg, "STAGE_MIN_LENGTH");
}

TEST(rejects_a_spike) {
    size_t n;
    StageDesc d = good(&n);
    pts[120].y += 1.9; /* a kink of about 45+ degrees at 121 */
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "point 12");
}

TEST(rejects_a_corner_tighter_than_the_road) {
    /* 30 degrees every 2 u: radius 3.8 u on a 12 u road folds the edge. */
    size_t n = fixture_road(pts, 8192, 300, M_PI / 2, 6, 300, 12, SURFACE_ASPHALT);
    cps[0] = 50;
    StageDesc d = {pts, n, cps, 1, NULL};
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "turn radius");
}

TEST(rejects_self_overlap) {
    /* A full circle of radius 40 comes back across its own start. */
    size_t n =
        fixture_road(pts, 8192, 100, 2 * M_PI + 0.5, 2 * M_PI * 40 + 20, 200, 12, SURFACE_ASPHALT);
    cps[0] = 60;
    StageDesc d = {pts, n, cps, 1, NULL};
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "self-overlap");
}

TEST(a_wide_hairpin_is_fine_a_narrow_one_overlaps) {
    /* Legs 2r apart: r = 15 leaves 30 u for 12 u of road, 10 of verge, 2
     * of wall between the legs' centre lines: 12 + 10 + 2 = 24 < 30. */
    size_t n = fixture_road(pts, 8192, 200, M_PI, M_PI * 15, 150, 12, SURFACE_GRAVEL);
    cps[0] = 40;
    StageDesc d = {pts, n, cps, 1, NULL};
    CrError err;
    int rc = check(d, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    ASSERT_EQ_INT(rc, CR_OK);
    n = fixture_road(pts, 8192, 200, M_PI, M_PI * 10, 150, 12, SURFACE_GRAVEL);
    d.n_points = n;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "self-overlap");
}

/* Two exactly collinear stretches far apart along one line (an S that
 * comes back onto the same heading) are not a crossing, whatever the
 * rounding of the cross products says. */
TEST(collinear_straights_far_apart_are_not_an_overlap) {
    /* A long, exactly straight road at an angle where the old crossing test
     * saw segments 11 and 32 "touch" through rounding noise. */
    double a = 73 * 0.0157;
    size_t n = 0;
    for (int i = 0; i <= 600; i++)
        pts[n++] = (StagePoint){i * 2 * cos(a), i * 2 * sin(a), 12, SURFACE_ASPHALT};
    cps[0] = 100;
    StageDesc d = {pts, n, cps, 1, NULL};
    CrError err;
    int rc = check(d, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    ASSERT_EQ_INT(rc, CR_OK);
}

TEST(rejects_bad_checkpoints) {
    size_t n;
    StageDesc d = good(&n);
    CrError err;
    d.n_checkpoints = 0;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "checkpoints");
    d = good(&n);
    cps[0] = 200, cps[1] = 100;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "does not come after");
    d = good(&n);
    cps[0] = 10; /* 20 u from the start */
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "after the start");
    d = good(&n);
    cps[1] = (uint32_t)n - 1; /* on the finish */
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "strictly between");
    d = good(&n);
    cps[1] = 290; /* 20 u before the finish */
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "before the finish");
}

TEST(rejects_a_start_grid_in_a_corner) {
    size_t n = fixture_road(pts, 8192, 10, M_PI / 3, 60, 500, 12, SURFACE_ASPHALT);
    cps[0] = 100;
    StageDesc d = {pts, n, cps, 1, NULL};
    CrError err;
    ASSERT_EQ_INT(check(d, &err), CR_ESTAGE);
    ASSERT_CONTAINS(err.msg, "start grid");
}

TEST(probe_knows_road_verge_and_wall) {
    Stage *st = fixture_stage(600, 0, 0, 0, 12, SURFACE_GRAVEL, 100);
    StageProbe p;
    /* Near the edge the interpolated field is exact; at the centre line
     * (a ridge) it is smoothed by up to half a cell. */
    stage_probe(st, 300, 3, &p);
    ASSERT_EQ_INT(p.surface, SURFACE_GRAVEL);
    ASSERT_NEAR(p.edge_dist, -3, 0.05);
    stage_probe(st, 300, 8, &p);
    ASSERT_EQ_INT(p.surface, SURFACE_OFFROAD);
    ASSERT_NEAR(p.edge_dist, 2, 0.05);
    ASSERT_NEAR(p.wall_dist, 2 - CR_VERGE, 0.05);
    stage_probe(st, 300, 5000, &p); /* far outside the raster */
    ASSERT_EQ_INT(p.surface, SURFACE_OFFROAD);
    ASSERT_LT(CR_VERGE, p.wall_dist + CR_VERGE);
    stage_destroy(st);
}

TEST(rays_measure_the_distance_to_the_edge) {
    Stage *st = fixture_stage(600, 0, 0, 0, 12, SURFACE_ASPHALT, 100);
    ASSERT_NEAR(stage_raycast(st, 300, 0, M_PI / 2, 150), 6, 0.05);
    ASSERT_NEAR(stage_raycast(st, 300, 2, -M_PI / 2, 150), 8, 0.05);
    ASSERT_NEAR(stage_raycast(st, 300, 0, M_PI / 6, 150), 12, 0.1); /* 6 / sin 30 */
    ASSERT_NEAR(stage_raycast(st, 300, 0, 0, 150), 150, 1e-9);      /* capped */
    ASSERT_NEAR(stage_raycast(st, 500, 0, 0, 150), 100, 0.05);      /* the road ends */
    ASSERT_NEAR(stage_raycast(st, 300, 9, 0, 150), 0, 1e-9);        /* off the road */
    stage_destroy(st);
}

/* Walking the quads and sphere tracing the distance field are two
 * independent ways to cast a ray: they agree to within the quads' merge
 * tolerance plus the raster's interpolation error, on a winding road. */
TEST(quad_rays_agree_with_the_distance_field) {
    Stage *st = fixture_stage(100, 2.5, 400, 300, 10, SURFACE_ASPHALT, 150);
    Rng r;
    rng_init(&r, 42);
    int tested = 0;
    double worst = 0;
    for (int i = 0; i < 4000; i++) {
        double s = 5 + rng_float(&r) * (stage_length(st) - 10);
        double x, y, dx, dy;
        int seg;
        stage_point_at(st, s, &x, &y, &dx, &dy, &seg);
        double off = (rng_float(&r) - 0.5) * 8;
        x += -dy * off, y += dx * off;
        double a = rng_float(&r) * 2 * M_PI;
        int quad = stage_locate_quad(st, stage_track_segment(st, seg, x, y), x, y);
        double qd = stage_raycast_quad(st, quad, x, y, cos(a), sin(a), 150);
        double fd = stage_raycast_quad(st, -1, x, y, cos(a), sin(a), 150);
        /* Grazing rays amplify any edge difference; judge the rest. */
        double gx, gy;
        stage_gradient(st, x + cos(a) * fd, y + sin(a) * fd, &gx, &gy);
        if (fabs(gx * cos(a) + gy * sin(a)) < 0.3) continue;
        /* The field's road ends in a round cap, the quads' in a flat one. */
        double hx = x + cos(a) * qd, hy = y + sin(a) * qd;
        const StagePoint *first = &stage_points(st)[0];
        const StagePoint *last = &stage_points(st)[stage_point_count(st) - 1];
        if (hypot(hx - first->x, hy - first->y) < 8 || hypot(hx - last->x, hy - last->y) < 8)
            continue;
        double e = fabs(qd - fd);
        if (e > worst) {
            worst = e;
            if (e > 0.5)
                fprintf(stderr, "  worst at (%.2f, %.2f) angle %.3f: quads %.3f field %.3f\n", x, y,
                        a, qd, fd);
        }
        tested++;
    }
    ASSERT_LT(2000, tested);
    ASSERT_LT(worst, 0.5);
    stage_destroy(st);
}

TEST(equal_stages_hash_equal) {
    Stage *a = fixture_stage(600, 1, 200, 200, 12, SURFACE_ICE, 100);
    Stage *b = fixture_stage(600, 1, 200, 200, 12, SURFACE_ICE, 100);
    Stage *c = fixture_stage(600, 1, 200, 200, 12, SURFACE_GRAVEL, 100);
    ASSERT_EQ_U64(stage_hash(a), stage_hash(b));
    ASSERT_TRUE(stage_hash(a) != stage_hash(c));
    stage_destroy(a);
    stage_destroy(b);
    stage_destroy(c);
}

TEST(svg_has_every_layer) {
    Stage *st = fixture_stage(600, 1, 200, 200, 12, SURFACE_ICE, 100);
    CrError err;
    const char *path = "test_stage.svg";
    ASSERT_EQ_INT(stage_write_svg(st, "t", path, &err), CR_OK);
    FILE *f = fopen(path, "r");
    ASSERT_TRUE(f != NULL);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    remove(path);
    ASSERT_CONTAINS(buf, "<svg");
    ASSERT_CONTAINS(buf, "#cfe9f7"); /* ice */
    ASSERT_CONTAINS(buf, "CP1");
    ASSERT_CONTAINS(buf, "FINISH");
    ASSERT_CONTAINS(buf, "START");
    ASSERT_CONTAINS(buf, "</svg>");
    ASSERT_EQ_INT(stage_write_svg(st, "t", "/nonexistent/dir/x.svg", &err), CR_EIO);
    ASSERT_CONTAINS(err.msg, "/nonexistent/dir/x.svg");
    stage_destroy(st);
}

TEST_MAIN
