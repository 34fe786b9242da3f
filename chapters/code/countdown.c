// countdown.c: chapter 3's first program: a future written by hand, a switch over saved states.
//
// Not part of src/. The body below as straight-line code would be
//     print "from 3"; for (n = 3; n > 0; n--) { print n; wait for the next poll; } print "liftoff"
// Written as a future, it returns PENDING where it would wait and keeps what
// it needs (where it stopped, n) in a struct. main polls it until READY. Build
// and run from the repository root, after `make STAGE=3`, with one command line
// (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=3
//       chapters/code/countdown.c build/stage-3/libnostd.a -o build/countdown
//   build/countdown
#include "sys/fmt.h"

// [snippet: first-future]
enum poll { PENDING, READY };

struct countdown {
    enum { START, COUNTING, DONE } state; // where the body stopped
    int n;                                // a local that lives across the wait
};

static enum poll countdown_poll(struct countdown *c)
{
    switch (c->state) {
    case START:
        sys_printf("  from %d\n", c->n); // runs once: the next poll resumes below
        c->state = COUNTING;
        // fall through
    case COUNTING:
        if (c->n > 0) {
            sys_printf("  %d\n", c->n--);
            return PENDING; // stop here; the next poll goes on from this point
        }
        sys_printf("  liftoff\n");
        c->state = DONE;
        return READY;
    case DONE:
        break;
    }
    return READY;
}

int main(void)
{
    struct countdown c = {.state = START, .n = 3};
    for (int polls = 1;; polls++) {
        enum poll r = countdown_poll(&c);
        sys_printf("poll %d: %s\n", polls, r == READY ? "READY" : "PENDING");
        if (r == READY)
            return 0;
    }
}
// [end: first-future]
