/* disk.h - the disk the diskio guest works on: a legacy virtio-blk PCI device
 * in the guest (virtio_blk.c), a file in the host oracle build (host_disk.c),
 * so diskio.c is the same source on both. Sectors are 512 bytes. */
#ifndef DISK_H
#define DISK_H
#include <stdint.h>

/* Finds and initialises the disk; returns its size in sectors, 0 if there is none. */
uint64_t disk_open(void);
/* Transfers n sectors (n <= 128) at sector s; returns 0 on success. */
int disk_read(uint64_t s, void *buf, uint32_t n);
int disk_write(uint64_t s, const void *buf, uint32_t n);
/* The next byte typed on the console (blocks until there is one; -1 at end of input). */
int con_getc(void);

#endif
