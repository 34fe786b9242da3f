// size_class.c: the size classes: which block sizes exist, and the tables that map a request to one.
#include "mem/mem_internal.h"
#include "sys/sys.h"

unsigned mem_nclasses;
uint32_t mem_class_size[MEM_MAX_CLASSES];
uint16_t mem_class_batch[MEM_MAX_CLASSES];
uint8_t mem_class_by16[1024 / 16 + 1];
uint8_t mem_class_by128[MEM_MAX_SMALL / 128 + 1];

static void add_class(uint32_t size)
{
    if (mem_nclasses == MEM_MAX_CLASSES || (mem_nclasses > 0 && size <= mem_class_size[mem_nclasses - 1]))
        sys_panic("mem: size-class table is not strictly ascending or too long");
    mem_class_size[mem_nclasses++] = size;
}

// Returns the first class (mem_class_size[] is ascending) whose blocks hold n
// bytes; n is at most the largest class. Called by mem_classes_init to fill
// the lookup tables mem_class_of reads, so it may be slow but never wrong.
// [lab: smallest_class_holding]
static unsigned smallest_class_holding(size_t n)
{
    unsigned c = 0;
    while (mem_class_size[c] < n)
        c++;
    return c;
}
// [end lab: smallest_class_holding]

// [snippet: mem-classes]
// With the default 64 KiB chunk this makes 39 classes:
//   16, 32, ... 128         step 16: small structs waste at most 15 bytes
//   160 ... 8192            four per doubling: at most 25% lost to rounding
//   9344, 10880, 13056, 16384, 21760, 32768, 65536
//                           a chunk divided by 7, 6, ... 1 (rounded down to
//                           128): a chunk holds a whole number of them, so
//                           big classes waste nothing at the end of a chunk
// Powers of two (the usual I/O buffer sizes) are all exact classes.
void mem_classes_init(void)
{
    mem_nclasses = 0;
    for (uint32_t s = 16; s <= 128; s += 16)
        add_class(s);
    for (uint32_t base = 128; base < MEM_CHUNK_SIZE / 8; base *= 2)
        for (uint32_t i = 1; i <= 4; i++)
            add_class(base + i * base / 4);
    for (uint32_t d = 7; d >= 1; d--)
        add_class((MEM_CHUNK_SIZE / d) & ~127u);

    for (size_t i = 0; i < sizeof mem_class_by16; i++)
        mem_class_by16[i] = (uint8_t)smallest_class_holding(i * 16);
    for (size_t i = 0; i < sizeof mem_class_by128; i++)
        mem_class_by128[i] = (uint8_t)smallest_class_holding(i * 128);

    // A cache moves about MEM_CACHE_BATCH_BYTES at a time: many small blocks
    // per trip to the central lock, but only one 64 KiB buffer.
    for (unsigned c = 0; c < mem_nclasses; c++) {
        uint32_t b = MEM_CACHE_BATCH_BYTES / mem_class_size[c];
        mem_class_batch[c] = (uint16_t)(b < 1 ? 1 : b > MEM_CACHE_BATCH_MAX ? MEM_CACHE_BATCH_MAX : b);
    }
}
// [end: mem-classes]
