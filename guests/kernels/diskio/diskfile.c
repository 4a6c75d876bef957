/* diskfile - a one-sector "file" on a virtio-blk disk, driven from the console: w writes the next version, r reads it back and prints it, q quits */
/* For the rollback tests: what the guest reads after a rollback is what the
 * disk held at the checkpoint. The host oracle build runs the same source
 * against an image file (host_disk.c) with the commands on stdin. */
#include "sdk.h"
#include "disk.h"

static uint8_t buf[512] __attribute__((aligned(16)));

int workload_main(void)
{
    if (disk_open() == 0) {
        puts("diskfile: no virtio-blk disk found");
        return EXIT_BAD_ARGS;
    }
    uint32_t version = 0;
    puts("diskfile ready");
    for (;;) {
        int c = con_getc();
        if (c < 0 || c == 'q')
            return EXIT_OK;
        if (c == 'w') {
            version++;
            memset(buf, 0, sizeof buf);
            uint32_t n = 0;
            const char *t = "version ";
            while (*t) buf[n++] = (uint8_t)*t++;
            char d[12];
            int k = 0;
            uint32_t v = version;
            do { d[k++] = (char)('0' + v % 10); v /= 10; } while (v);
            while (k) buf[n++] = (uint8_t)d[--k];
            check(disk_write(0, buf, 1) == 0, 10);
            printf("wrote version %u\n", version);
        } else if (c == 'r') {
            check(disk_read(0, buf, 1) == 0, 11);
            buf[511] = 0;
            printf("read: %s\n", buf[0] ? (const char *)buf : "(empty)");
        }
    }
}
