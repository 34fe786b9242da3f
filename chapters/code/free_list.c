// free_list.c: chapter 2's first program: a free list over a static array, where freed memory comes back.
//
// Not part of src/. One size class of 64-byte blocks carved from a static
// array; a freed block goes on a list threaded through the free blocks
// themselves, and the next allocation takes it first. Build and run from the
// repository root, after `make STAGE=2`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=2
//       chapters/code/free_list.c build/stage-2/libnostd.a -o build/free_list
//   build/free_list
#include "sys/fmt.h"
#include <stddef.h>

// [snippet: first-free-list]
#define BLOCK_SIZE 64
#define BLOCKS     4

struct free_block {
    struct free_block *next; // stored in the free block itself: the list costs no memory
};

static _Alignas(16) unsigned char arena[BLOCKS][BLOCK_SIZE];
static size_t carved;                // blocks of arena handed out at least once
static struct free_block *free_list; // blocks given back, most recent first

static void *toy_alloc(void)
{
    if (free_list) { // reuse before carving: freed memory is memory again
        struct free_block *b = free_list;
        free_list = b->next;
        return b;
    }
    if (carved < BLOCKS)
        return arena[carved++];
    return NULL; // out of memory is an answer, not a crash
}

static void toy_free(void *p)
{
    struct free_block *b = p;
    b->next = free_list;
    free_list = b;
}

int main(void)
{
    void *a = toy_alloc(), *b = toy_alloc();
    sys_printf("a = %p, b = %p\n", a, b);
    toy_free(a);
    void *c = toy_alloc();
    sys_printf("free(a), then c = %p: %s\n", c, c == a ? "a's block again" : "a new block");
    int more = 0;
    while (toy_alloc())
        more++;
    sys_printf("%d more blocks, then NULL\n", more);
    return 0;
}
// [end: first-free-list]
