/* host_disk.c - disk.h for the host oracle build: the disk is the image file
 * named by the environment variable DISKIO_IMAGE, the console is stdin. */
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "disk.h"

static int fd = -1;

uint64_t disk_open(void)
{
    const char *p = getenv("DISKIO_IMAGE");
    struct stat st;
    if (!p || (fd = open(p, O_RDWR)) < 0 || fstat(fd, &st) != 0)
        return 0;
    return (uint64_t)st.st_size / 512;
}

int disk_read(uint64_t s, void *buf, uint32_t n)
{
    return pread(fd, buf, n * 512u, (off_t)(s * 512)) == (ssize_t)(n * 512u) ? 0 : 1;
}

int disk_write(uint64_t s, const void *buf, uint32_t n)
{
    return pwrite(fd, buf, n * 512u, (off_t)(s * 512)) == (ssize_t)(n * 512u) ? 0 : 1;
}

int con_getc(void)
{
    unsigned char c;
    return read(0, &c, 1) == 1 ? c : -1;
}
