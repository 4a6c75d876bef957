/* diskio - virtio-blk workload: random-length writes and reads over the first 8 MiB of the disk, checksummed */
/* The host oracle build runs the same source against an image file (host_disk.c). */
#include "sdk.h"
#include "disk.h"

#define MAXSEC 64
static uint8_t buf[MAXSEC * 512] __attribute__((aligned(16)));

int workload_main(void)
{
    uint64_t cap = disk_open();
    if (cap == 0) {
        puts("diskio: no virtio-blk disk found");
        return EXIT_BAD_ARGS;
    }
    uint32_t region = cap < 16384 ? (uint32_t)cap : 16384; /* sectors: at most 8 MiB */
    if (region < 2 * MAXSEC) {
        puts("diskio: the disk is too small (needs 64 KiB)");
        return EXIT_BAD_ARGS;
    }
    uint32_t ops = arg_iters(arg_is_test() ? 300 : 3000);
    struct rng r;
    rng_seed(&r, arg_seed(1));
    uint32_t h = 0;
    printf("diskio: %u sectors, %u operations on the first %u\n", (uint32_t)cap, ops, region);
    for (uint32_t op = 0; op < ops; op++) {
        uint32_t n = 1 + rng_below(&r, MAXSEC);
        uint32_t s = rng_below(&r, region - n);
        if (rng_below(&r, 2) == 0) {
            for (uint32_t i = 0; i < n * 512; i += 4) {
                uint32_t v = hash_mix(op * 0x9E3779B9u, i + s * 512);
                memcpy(buf + i, &v, 4);
            }
            check(disk_write(s, buf, n) == 0, 1);
        } else {
            check(disk_read(s, buf, n) == 0, 2);
            h = crc32_update(h, buf, n * 512);
        }
        if ((op + 1) % 100 == 0)
            printf("op %u crc %08x\n", op + 1, h);
    }
    uint32_t all = 0;
    for (uint32_t s = 0; s < region; s += MAXSEC) {
        uint32_t n = region - s < MAXSEC ? region - s : MAXSEC;
        check(disk_read(s, buf, n) == 0, 3);
        all = crc32_update(all, buf, n * 512);
    }
    printf("region crc %08x\ndiskio done\n", all);
    return EXIT_OK;
}
