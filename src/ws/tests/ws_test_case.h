// ws_test_case.h: the one-line-per-case report shared by the ws layer's hosted tests.
#ifndef WS_TESTS_TEST_CASE_H
#define WS_TESTS_TEST_CASE_H

#include <stdio.h>

static int failures;

#define CASE(name, cond, ...)            \
    do {                                 \
        if (cond) {                      \
            printf("[OK] %s\n", name);   \
        } else {                         \
            printf("[FAIL] %s: ", name); \
            printf(__VA_ARGS__);         \
            printf("\n");                \
            failures++;                  \
        }                                \
    } while (0)

#endif
