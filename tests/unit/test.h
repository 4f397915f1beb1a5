/*
 * test.h - a small unit-test harness: TEST(name) defines and registers a
 * test, typed ASSERT_ macros report file:line and the values, and main()
 * (from TEST_MAIN) runs every test and prints "N passed, M failed".
 */
#ifndef CR_TEST_H
#define CR_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*TestFn)(void);
typedef struct {
    const char *name;
    TestFn fn;
} TestCase;

#define TEST_MAX 128
extern TestCase test_cases[TEST_MAX];
extern int test_count;
extern int test_failed_now;

#define TEST(name)                                                                     \
    static void name(void);                                                            \
    __attribute__((constructor)) static void register_##name(void) {                   \
        if (test_count < TEST_MAX) test_cases[test_count++] = (TestCase){#name, name}; \
    }                                                                                  \
    static void name(void)

#define FAIL_AT(...)                                      \
    do {                                                  \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                     \
        fputc('\n', stderr);                              \
        test_failed_now = 1;                              \
        return;                                           \
    } while (0)

#define ASSERT_TRUE(c)                        \
    do {                                      \
        if (!(c)) FAIL_AT("expected %s", #c); \
    } while (0)
#define ASSERT_EQ_INT(a, b)                                              \
    do {                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);              \
        if (a_ != b_) FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_); \
    } while (0)
#define ASSERT_EQ_U64(a, b)                                                    \
    do {                                                                       \
        unsigned long long a_ = (a), b_ = (b);                                 \
        if (a_ != b_) FAIL_AT("%s == %s: %016llx != %016llx", #a, #b, a_, b_); \
    } while (0)
#define ASSERT_NEAR(a, b, tol)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b);                                                    \
        if (!(fabs(a_ - b_) <= (tol)))                                                \
            FAIL_AT("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, (double)(tol)); \
    } while (0)
#define ASSERT_LT(a, b)                                                   \
    do {                                                                  \
        double a_ = (a), b_ = (b);                                        \
        if (!(a_ < b_)) FAIL_AT("%s < %s: %.9g vs %.9g", #a, #b, a_, b_); \
    } while (0)
#define ASSERT_EQ_STR(a, b)                                         \
    do {                                                            \
        const char *a_ = (a), *b_ = (b);                            \
        if (!a_ || strcmp(a_, b_)) FAIL_AT("%s == \"%s\"", #a, b_); \
    } while (0)
#define ASSERT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_)) FAIL_AT("'%s' does not contain '%s'", h_ ? h_ : "(null)", n_); \
    } while (0)

#define TEST_MAIN                                                                     \
    TestCase test_cases[TEST_MAX];                                                    \
    int test_count, test_failed_now;                                                  \
    int main(int argc, char **argv) {                                                 \
        int passed = 0, failed = 0;                                                   \
        for (int i = 0; i < test_count; i++) {                                        \
            if (argc > 1 && strcmp(argv[1], test_cases[i].name)) continue;            \
            test_failed_now = 0;                                                      \
            fprintf(stderr, "-- %s\n", test_cases[i].name);                           \
            test_cases[i].fn();                                                       \
            printf("%s %s\n", test_failed_now ? "FAIL" : "ok  ", test_cases[i].name); \
            if (test_failed_now)                                                      \
                failed++;                                                             \
            else                                                                      \
                passed++;                                                             \
        }                                                                             \
        printf("%d passed, %d failed\n", passed, failed);                             \
        return failed || passed == 0 ? 1 : 0;                                         \
    }

#endif
